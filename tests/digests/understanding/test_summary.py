"""Leads and boilerplate removal."""

from __future__ import annotations

from digests.understanding.summary import clean_text, lead


def test_dateline_is_removed() -> None:
    assert lead("МОСКВА, 12 ноября — В районе открыли сквер с фонтаном.") == (
        "В районе открыли сквер с фонтаном."
    )
    assert lead("Москва, 3 марта 2025 года – Жителей пригласили на встречу с главой управы.") == (
        "Жителей пригласили на встречу с главой управы."
    )


def test_photo_credits_and_links_are_removed() -> None:
    text = "Открыли новую школу на 800 мест.\nФото: пресс-служба префектуры\nЧитайте также: другое"
    assert clean_text(text) == "Открыли новую школу на 800 мест."
    assert "Фото" not in lead("Открыли новую школу на 800 мест. Фото: mos.ru")


def test_lead_is_two_sentences_at_most_300_chars() -> None:
    text = " ".join(
        f"Это предложение номер {i} о важных городских событиях района." for i in range(10)
    )
    out = lead(text)
    assert len(out) <= 300
    assert out.endswith(".")
    assert out.count(".") <= 2


def test_long_first_sentence_is_cut_at_word_boundary() -> None:
    text = "Жители " + "очень " * 80 + "довольны."
    out = lead(text)
    assert len(out) <= 300 and out.endswith("…")
    assert not out[:-1].endswith(" ")


def test_sentence_repeating_title_is_skipped() -> None:
    out = lead(
        "Открыли сквер в Куркине. В сквере поставили 40 скамеек и фонари.",
        "Открыли сквер в Куркине",
    )
    assert out == "В сквере поставили 40 скамеек и фонари."


def test_abbreviations_do_not_break_sentences() -> None:
    out = lead("В г. Москве открыли 5 тыс. кв. м площадей. Второе предложение здесь длинное.")
    assert out.startswith("В г. Москве открыли 5 тыс. кв. м площадей.")
