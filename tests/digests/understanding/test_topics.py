# ruff: noqa: E501  (example sentences read better unbroken)
"""Topic classification."""

from __future__ import annotations

import pytest

from digests.i18n import N_
from digests.understanding.analyzer import Analyzer
from digests.understanding.topics import TOPIC_NAMES, TOPICS


def topics(analyzer: Analyzer, title: str, text: str) -> tuple[str, ...]:
    return analyzer.understand(title, text).topics


def test_taxonomy_has_twelve_named_topics() -> None:
    assert len(TOPICS) == 12
    assert set(TOPIC_NAMES) == set(TOPICS)
    assert TOPIC_NAMES["transport"] == N_("Transport")


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Новые автобусы на маршруте",
            "На маршрут вышли электробусы, интервал движения сократят, остановки перенесут к метро.",
            "transport",
        ),
        (
            "Отключение горячей воды",
            "В домах района отключат горячую воду на время испытаний, управляющая компания сообщила график.",
            "housing",
        ),
        (
            "Школьники победили на олимпиаде",
            "Ученики школы стали призёрами олимпиады по математике, учитель рассказал о подготовке.",
            "education",
        ),
        (
            "Поликлиника открылась после ремонта",
            "Врачи принимают пациентов, работают терапевты и педиатры, запись через ЕМИАС.",
            "health",
        ),
        (
            "Пенсионеров приглашают на занятия",
            "Участники «Московского долголетия» смогут бесплатно заниматься, записаться можно в центре социального обслуживания.",
            "social",
        ),
        (
            "В библиотеке откроется выставка",
            "Выставка и концерт пройдут в библиотеке, гостей ждут экскурсии и мастер-классы.",
            "culture",
        ),
        (
            "Турнир по хоккею",
            "Команды сыграли на катке, спортсмены получили медали, тренер поблагодарил болельщиков.",
            "sport",
        ),
        (
            "Полиция задержала мошенников",
            "Злоумышленники обманывали пенсионеров по телефону, возбуждено уголовное дело.",
            "safety",
        ),
        (
            "Субботник в парке",
            "Жители высадили деревья и кустарники, собрали мусор и отправили пластик на переработку.",
            "ecology",
        ),
        (
            "Технопарк откроется в округе",
            "Предприятия технопарка создадут рабочие места, инвестиции в производство составят миллиард рублей.",
            "economy",
        ),
        (
            "Совет депутатов утвердил бюджет",
            "На заседании депутаты муниципального округа утвердили бюджет и заслушали отчёт главы управы.",
            "government",
        ),
    ],
)
def test_topic_examples(analyzer: Analyzer, title: str, text: str, expected: str) -> None:
    assert topics(analyzer, title, text)[0] == expected


def test_multilabel_at_most_three(analyzer: Analyzer) -> None:
    t = topics(
        analyzer,
        "Новая школа и поликлиника",
        "Строительство школы и поликлиники завершат, застройщик ввёл здания в эксплуатацию. "
        "Учеников и пациентов примут в сентябре, врачи и учителя уже набраны.",
    )
    assert 2 <= len(t) <= 3
    assert {"education", "health"} <= set(t)


def test_lemmas_make_inflections_count(analyzer: Analyzer) -> None:
    assert (
        topics(analyzer, "", "Поликлиникам, поликлиниками и в поликлиниках врачи.")[0] == "health"
    )


def test_empty_text_has_no_topics(analyzer: Analyzer) -> None:
    assert topics(analyzer, "", "") == ()


def test_explain_shows_words_per_topic(analyzer: Analyzer) -> None:
    ex = analyzer.explain("Полиция задержала мошенников", "Мошенники звонили пенсионерам.")
    assert "safety" in ex.topic_words
    words = {w for w, _ in ex.topic_words["safety"]}
    assert {"полиция", "мошенник"} <= words
