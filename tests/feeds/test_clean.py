from __future__ import annotations

import pytest

from bot.feeds.clean import clean_html, clean_title


def test_paragraphs_entities_and_whitespace() -> None:
    html = "<p>Один&nbsp;&mdash; два\n   три</p><p>Четыре<br>пять</p><div>шесть</div>"
    assert clean_html(html).text == "Один — два три\n\nЧетыре\nпять\n\nшесть"


def test_dropped_elements() -> None:
    html = (
        "<p>Текст</p><script>var a = '<p>x</p>';</script><style>p{color:red}</style>"
        "<iframe src='https://vk.com/video'>видео</iframe><noscript><img src='//mc.yandex.ru/1'>"
        "</noscript><div class='ya-share2'><a>ВКонтакте</a><div>Телеграм</div></div>"
        "<figure><img src='/a.jpg'><figcaption>Фото Иванова</figcaption></figure><p>Конец</p>"
    )
    result = clean_html(html)
    assert result.text == "Текст\n\nКонец"
    assert result.image_url == "/a.jpg"


def test_tracking_pixels_are_not_images() -> None:
    html = '<img src="https://mc.yandex.ru/watch/1" width="1" height="1"><img src="data:x"><p>T</p>'
    assert clean_html(html).image_url is None


def test_read_also_block_with_headlines() -> None:
    html = (
        "<p>Новость про Строгино.</p><p><b>Читайте также:</b></p>"
        "<p><a>В Митине открыли парк</a></p><p><a>Новая школа в Тушине</a></p>"
        "<p>Продолжение новости про работы.</p>"
    )
    assert clean_html(html).text == "Новость про Строгино.\n\nПродолжение новости про работы."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Открыли каток. Читайте также: В Митине новый парк", "Открыли каток."),
        ("Открыли каток.\nФото: Иван Петров / mos.ru", "Открыли каток."),
        ("Открыли каток. Фото: агентство «Москва»", "Открыли каток."),
        ("Открыли каток.\n\nИсточник: пресс-служба префектуры СЗАО", "Открыли каток."),
        ("Открыли каток.\n\nПодписывайтесь на наш канал в Telegram!", "Открыли каток."),
        ("Открыли каток. Подпишитесь на нас в VK.", "Открыли каток."),
        ("Открыли каток.\n\nЯндекс.Метрика\nРейтинг@Mail.ru", "Открыли каток."),
        # "фото" inside a sentence is text, not a credit.
        ("На выставке фото района Щукино.", "На выставке фото района Щукино."),
    ],
)
def test_boilerplate(text: str, expected: str) -> None:
    assert clean_html(text).text == expected


def test_plain_text_keeps_its_paragraphs() -> None:
    assert clean_html("Первый абзац.\r\n\r\nВторой абзац.").text == "Первый абзац.\n\nВторой абзац."


def test_escaped_markup_does_not_survive() -> None:
    text = clean_html("&lt;script&gt;alert(1)&lt;/script&gt; a &lt;b").text
    assert "<script" not in text and "<b" not in text


def test_clean_title() -> None:
    assert clean_title("Новости&amp;amp;<b>события</b>\n ") == "Новости&события"
    assert clean_title("a < b") == "a < b"
