"""District and okrug recognition, one test per tricky case."""

from __future__ import annotations

import pytest

from digests.understanding.analyzer import Analyzer
from digests.understanding.places.gazetteer import word_forms


def tag(analyzer: Analyzer, text: str, title: str = "") -> tuple[set[str], set[str]]:
    u = analyzer.understand(title, text)
    return set(u.districts), set(u.okrugs_mentioned)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("В Хорошёво-Мнёвниках открыли сквер.", "khoroshyovo-mnyovniki"),
        ("Жителей Хорошёва-Мнёвников пригласили на встречу.", "khoroshyovo-mnyovniki"),
        ("Сквер в Тропарёве-Никулине благоустроили.", "troparyovo-nikulino"),
        ("Сквер в Тропарёво-Никулине благоустроили.", "troparyovo-nikulino"),
        ("Ремонт дорог в Очакове-Матвеевском завершён.", "ochakovo-matveevskoe"),
        ("Поликлинику в Косине-Ухтомском открыли.", "kosino-ukhtomsky"),
        ("Жители Покровского-Стрешнева выбрали проект.", "pokrovskoe-streshnevo"),
    ],
)
def test_declined_hyphenated_name(analyzer: Analyzer, text: str, slug: str) -> None:
    assert tag(analyzer, text)[0] == {slug}


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Жителей Южного Бутова ждут изменения.", "yuzhnoe-butovo"),
        ("В Южном Медведкове открыли школу.", "yuzhnoe-medvedkovo"),
        ("В Западном Дегунине высадили деревья.", "zapadnoe-degunino"),
        ("В 4-м микрорайоне Митина построят дом.", "mitino"),
        ("Жителей Крылатского пригласили на праздник.", "krylatskoe"),
        ("Каток открыли в Кузьминках, в районе без парковой зоны.", "kuzminki"),
    ],
)
def test_declined_name(analyzer: Analyzer, text: str, slug: str) -> None:
    assert slug in tag(analyzer, text)[0]


def test_inverted_order(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Новости района Бутово Северное.")[0] == {"severnoe-butovo"}
    assert tag(analyzer, "В Медведково Южном открыли сквер.")[0] == {"yuzhnoe-medvedkovo"}


def test_coordinated_adjectives_share_noun(analyzer: Analyzer) -> None:
    districts = tag(analyzer, "Автобусы Северного и Южного Бутова пойдут по-новому.")[0]
    assert districts == {"severnoe-butovo", "yuzhnoe-butovo"}
    districts = tag(analyzer, "Дворы в Бирюлёво Восточное и Западное обновят.")[0]
    assert districts == {"biryulyovo-vostochnoe", "biryulyovo-zapadnoe"}


def test_name_after_rayon_is_nominative(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Дворы в районе Хамовники обновят.")[0] == {"khamovniki"}
    assert tag(analyzer, "Дома в районе Новогиреево утеплят.")[0] == {"novogireevo"}


def test_adjective_district_forms(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Жители Таганского района выбрали проект.")[0] == {"tagansky"}
    assert tag(analyzer, "В Басманном районе обновят дворы.")[0] == {"basmanny"}


def test_yo_and_ye_are_the_same(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В Хорошево-Мневниках открыли сквер.")[0] == {"khoroshyovo-mnyovniki"}
    assert tag(analyzer, "Жители Бирюлево Западного пришли.")[0] == {"biryulyovo-zapadnoe"}


def test_vnukovo_declined_is_district_without_airport(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Во Внукове открыли новую школу.")[0] == {"vnukovo"}


def test_airport_vnukovo_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В аэропорту Внуково задержали рейсы.")[0] == set()
    assert tag(analyzer, "Самолёт вылетел из Внукова с опозданием, рейс задержан.")[0] == set()


def test_metro_station_sokol_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "У станции метро «Сокол» ограничат движение.")[0] == set()
    assert tag(analyzer, "Встреча пройдёт у метро Аэропорт.")[0] == set()
    assert tag(analyzer, "Пробки в районе Сокола.")[0] == set()


def test_district_sokol_with_context(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Управа района Сокол провела встречу.")[0] == {"sokol"}
    assert tag(analyzer, "Жители муниципального округа Сокол выбрали проект.")[0] == {"sokol"}
    assert tag(analyzer, "В районе Аэропорт открыли площадку.")[0] == {"aeroport"}


def test_list_after_rayon_carries_context(analyzer: Analyzer) -> None:
    districts = tag(analyzer, "Жителям районов Сокол, Аэропорт и Беговой рассказали о ремонте.")[0]
    assert districts == {"sokol", "aeroport", "begovoy"}


def test_highways_stations_and_avenues_are_not_districts(analyzer: Analyzer) -> None:
    text = (
        "На Ярославском шоссе, у Савёловского вокзала и на Рязанском проспекте "
        "ремонтируют дороги. Пробки на Можайском шоссе и Дмитровском шоссе."
    )
    assert tag(analyzer, text)[0] == set()


def test_tverskaya_street_and_arbat_street_are_not_districts(analyzer: Analyzer) -> None:
    assert tag(analyzer, "На Тверской улице и на Арбате перекроют движение.")[0] == set()
    assert tag(analyzer, "Управа района Арбат подвела итоги.")[0] == {"arbat"}


def test_park_sokolniki_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В парке «Сокольники» пройдёт фестиваль.")[0] == set()
    assert tag(analyzer, "Фестиваль в Кузьминках: парк ждёт гостей у пруда.")[0] == set()
    assert tag(analyzer, "Музей-заповедник «Царицыно» открыл выставку.")[0] == set()


def test_courts_are_not_districts(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Басманный суд арестовал обвиняемого.")[0] == set()
    assert tag(analyzer, "Лефортовский суд вынес приговор.")[0] == set()
    assert tag(analyzer, "Головинский районный суд рассмотрел дело.")[0] == set()


def test_kommunarka_hospital_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В больнице в Коммунарке лечат пациентов.")[0] == set()
    assert tag(analyzer, "В районе Коммунарка открыли школу.")[0] == {"kommunarka"}


def test_kryukovo_station_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "От станции Крюково поезд идёт 40 минут.")[0] == set()
    assert tag(analyzer, "В районе Крюково построят школу.")[0] == {"kryukovo"}


def test_krasnoselsky_of_st_petersburg_is_not_moscow(analyzer: Analyzer) -> None:
    text = "В Красносельском районе Санкт-Петербурга открыли школу."
    assert tag(analyzer, text)[0] == set()
    assert tag(analyzer, "В Красносельском районе обновят дворы.")[0] == {"krasnoselsky"}


def test_ordinary_adjectives_are_not_districts(analyzer: Analyzer) -> None:
    text = "Северный ветер и Восточный экспресс. Академический отпуск и Донской монастырь."
    assert tag(analyzer, text)[0] == set()


def test_lowercase_common_noun_is_not_district(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В районе аэропорта затруднено движение.")[0] == set()


def test_khmao_is_not_an_okrug(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Москва и ХМАО, а также ЯНАО и ЕАО подписали соглашение.") == (
        set(),
        set(),
    )


def test_tinao_means_nao_and_tao(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Дороги ТиНАО отремонтируют.")[1] == {"nao", "tao"}


def test_okrug_abbreviations_as_whole_tokens(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Префект СЗАО и префект ЗелАО встретились.")[1] == {"szao", "zelao"}


def test_zao_company_is_not_western_okrug(analyzer: Analyzer) -> None:
    assert tag(analyzer, "ЗАО «Мосинжстрой» построит мост.")[1] == set()


def test_okrug_full_names_are_okrugs_not_districts(analyzer: Analyzer) -> None:
    d, o = tag(analyzer, "В Восточном округе и в Северо-Западном административном округе.")
    assert (d, o) == (set(), {"vao", "szao"})
    d, o = tag(analyzer, "Северный административный округ подвёл итоги.")
    assert (d, o) == (set(), {"sao"})
    d, o = tag(analyzer, "Троицкий и Новомосковский административные округа.")
    assert (d, o) == (set(), {"tao", "nao"})


def test_zelenograd_and_new_moscow_are_okrugs(analyzer: Analyzer) -> None:
    assert tag(analyzer, "В Зеленограде открыли технопарк.")[1] == {"zelao"}
    assert tag(analyzer, "В Новой Москве строят дороги.")[1] == {"nao", "tao"}


def test_district_gives_okrug(analyzer: Analyzer) -> None:
    u = analyzer.understand("", "В Куркине открыли сквер.")
    assert u.districts == ("kurkino",)
    assert u.okrugs_from_districts == ("szao",)
    assert u.okrugs_mentioned == ()


def test_former_settlement_maps_to_successor(analyzer: Analyzer) -> None:
    u = analyzer.understand("", "В поселении Сосенское построят поликлинику.")
    assert u.districts == ("kommunarka",)
    assert u.uncertain_districts == ()
    u = analyzer.understand("", "Жители Роговского поселения вышли на субботник.")
    assert u.districts == ("voronovo",)


def test_uncertain_settlement_tags_main_successor_as_uncertain(analyzer: Analyzer) -> None:
    u = analyzer.understand("", "В Марушкинском отремонтируют дороги.")
    assert u.districts == ("filimonkovsky",)
    assert u.uncertain_districts == ("filimonkovsky",)


def test_ambiguous_settlement_needs_context(analyzer: Analyzer) -> None:
    assert tag(analyzer, "Московский метрополитен и Киевский вокзал.")[0] == set()
    assert tag(analyzer, "В поселении Московский открыли школу.")[0] == {"filimonkovsky"}


def test_explain_lists_evidence(analyzer: Analyzer) -> None:
    ex = analyzer.explain(
        "В районе Сокол открыли поликлинику", "У метро «Сокол» открыли поликлинику."
    )
    text = ex.render()
    assert "+ district sokol" in text
    assert "- district sokol" in text
    assert "health" in text


def test_word_forms() -> None:
    assert {"митина", "митину", "митином", "митине"} <= word_forms("Митино")
    assert {"кузьминок", "кузьминках"} <= word_forms("Кузьминки")
    assert {"таганского", "таганском"} <= word_forms("Таганский")
