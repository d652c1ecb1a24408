"""The pieces of evidence about a pair of articles, the model that weighs them, and the
explanation (digests/understanding/stories/: quantities, evidence, model, decision)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from bench.fit_stories import choose_threshold, fit_logistic
from digests.understanding.analyzer import Analyzer
from digests.understanding.stories import StoryFeatures, StoryIndex, StoryModel, judge
from digests.understanding.stories.evidence import (
    FEATURES,
    PLACE_APART,
    PLACE_CONFLICT,
    PLACE_SHARED,
    PLACE_UNKNOWN,
    Evidence,
    Side,
    compare,
    place_relation,
    term_overlap,
)
from digests.understanding.stories.model import default_model
from digests.understanding.stories.quantities import by_word, conflicts, pack, unpack

T0 = datetime.fromisoformat("2026-03-10T10:00:00+03:00")


def counted(analyzer: Analyzer, text: str) -> list[tuple[str, str]]:
    return sorted(analyzer.understand("", text).story.quantities)


# --- numbers in context ---------------------------------------------------------------------


def test_a_number_is_read_with_the_word_it_counts(analyzer: Analyzer) -> None:
    assert counted(analyzer, "Заявки подали на 750 посещений в 12 центрах.") == [
        ("посещение", "750"), ("центр", "12"),
    ]  # fmt: skip
    # Adjectives between them are skipped; so are «около», «более».
    assert counted(analyzer, "Работают около 40 новых спортивных площадок.") == [
        ("площадка", "40"),
    ]  # fmt: skip


def test_joined_numbers_share_their_word_and_multipliers_scale(analyzer: Analyzer) -> None:
    assert counted(analyzer, "С 18 по 28 марта, 14 и 15 апреля.") == [
        ("апрель", "14"), ("апрель", "15"), ("март", "18"), ("март", "28"),
    ]  # fmt: skip
    assert counted(analyzer, "Вывезли 1,2 миллиона кубометров, затем 860 тысяч кубометров.") == [
        ("кубометр", "1200000"), ("кубометр", "860000"),
    ]  # fmt: skip
    assert counted(analyzer, "Пришли около 12 000 человек.") == [("человек", "12000")]


def test_number_words_clock_times_and_ordinals(analyzer: Analyzer) -> None:
    assert counted(analyzer, "Произошло семь пожаров.") == [("пожар", "7")]
    assert counted(analyzer, "Купили двадцать пять автобусов.") == [("автобус", "25")]
    assert counted(analyzer, "Работы идут с 23:00 до 5:30.") == [
        ("время", "23:00"), ("время", "5:30"),
    ]  # fmt: skip
    assert counted(analyzer, "Запись в 1-й класс открыта.") == [("класс", "1")]


def test_numbers_that_name_things_are_marked(analyzer: Analyzer) -> None:
    assert counted(analyzer, "Школа № 2120 у дома 12.") == [("№дом", "12"), ("№школа", "2120")]
    assert counted(analyzer, "Приём на улице Лазарева, 26.") == [("№лазарев", "26")]


def test_the_same_word_with_other_numbers_conflicts_and_a_local_count_does_not() -> None:
    release = by_word([("посещение", "750"), ("центр", "240")])
    other_count = by_word([("посещение", "800"), ("центр", "240")])
    local_copy = by_word([("посещение", "750"), ("центр", "240"), ("центр", "12")])
    assert conflicts(release, other_count) == (["центр 240"], ["посещение 750 ≠ 800"], [])
    assert conflicts(release, local_copy) == (["посещение 750", "центр 240"], [], [])
    # A count the other text does not make at all is neither agreement nor conflict.
    assert conflicts(release, by_word([("машина", "350")])) == ([], [], [])


def test_a_part_and_its_whole_are_not_a_conflict() -> None:
    city, district = by_word([("группа", "24000")]), by_word([("группа", "14")])
    assert conflicts(city, district) == ([], [], ["группа 24000 ≠ 14"])
    # Clock times are never a part of each other.
    assert conflicts(by_word([("время", "9:00")]), by_word([("время", "21:00")]))[1] == [
        "время 9:00 ≠ 21:00"
    ]


def test_packed_quantities_unpack_for_the_wanted_words() -> None:
    packed = pack([("март", "14"), ("март", "15"), ("центр", "12"), ("", "2026")])
    assert "2026" not in packed  # a bare number has nothing to be compared by
    assert unpack(packed, {"март"}) == ({"март": frozenset({"14", "15"})}, 2)
    assert unpack("", {"март"}) == ({}, 0)


def test_quantities_survive_the_stored_bytes(analyzer: Analyzer) -> None:
    f = analyzer.understand("", "На 750 посещений в 12 центрах с 14 марта.").story
    back = StoryFeatures.from_bytes(f.to_bytes())
    assert back.quantities == f.quantities == {
        ("посещение", "750"), ("центр", "12"), ("март", "14"),
    }  # fmt: skip


# --- places ---------------------------------------------------------------------------------


def side(districts: tuple[str, ...] = (), settlements: tuple[str, ...] = ()) -> Side:
    return Side(districts, settlements, {}, None, 0)


def test_disjoint_places_count_against_only_for_texts_about_one_place_each() -> None:
    assert place_relation(side(("mitino",)), side(("mitino", "kurkino"))) == PLACE_SHARED
    assert place_relation(side(("mitino",)), side(("vykhino-zhulebino",))) == PLACE_CONFLICT
    # A release naming several districts and a copy about another one: no evidence.
    assert place_relation(side(("mitino", "kurkino")), side(("strogino",))) == PLACE_APART
    # A city-wide release and its copy for one district: no evidence either.
    assert place_relation(side(), side(("strogino",))) == PLACE_UNKNOWN


def test_places_are_compared_at_the_finest_level_both_name() -> None:
    a = side(("voronovo",), ("voronovskoe",))
    b = side(("voronovo",), ("rogovskoe",))
    assert place_relation(a, b) == PLACE_CONFLICT  # one district, two former settlements
    assert place_relation(a, side(("voronovo",))) == PLACE_SHARED


# --- wording --------------------------------------------------------------------------------


def test_term_overlap_is_a_weighted_dice_and_a_share_of_the_smaller_text() -> None:
    dice, share = term_overlap(10.0, 30.0, 8.0)
    assert dice == pytest.approx(0.4) and share == pytest.approx(0.8)
    assert term_overlap(0.0, 0.0, 0.0) == (0.0, 0.0)


# --- weighing and explaining ----------------------------------------------------------------


def evidence(**changes: object) -> Evidence:
    base = compare(
        side(("mitino",)), side(("mitino",)), containment=0.3, jaccard=0.1, overlap=0.5,
        term_containment=0.6, shared_terms=("митинский", "750"), hours_apart=5.0,
    )  # fmt: skip
    values = {name: getattr(base, name) for name in base.__slots__}
    values.update(changes)
    return Evidence(**values)  # type: ignore[arg-type]


def test_the_score_is_a_logistic_function_of_weighed_evidence() -> None:
    model = StoryModel(("term_overlap", "same_feed"), (4.0, -3.0), -1.0, 0.5)
    e = evidence(same_feed=True)
    score = model.score(e)
    assert [(n, v, c) for n, v, c in score.contributions] == [
        ("term_overlap", 0.5, 2.0), ("same_feed", 1.0, -3.0),
    ]  # fmt: skip
    assert score.logit == pytest.approx(-2.0)
    assert score.probability == pytest.approx(1 / (1 + math.exp(2.0)))
    assert judge(e, model).same is False and judge(evidence(), model).same is True


def test_the_model_file_round_trips_and_names_known_features() -> None:
    model = default_model()
    assert set(model.features) <= set(FEATURES) and 0 < model.threshold < 1
    assert StoryModel.from_json(model.to_json(note="x")) == model
    with pytest.raises(ValueError, match="unknown features"):
        StoryModel(("no_such_thing",), (1.0,), 0.0, 0.5)


def test_explanation_names_every_piece_of_evidence_with_its_contribution(
    analyzer: Analyzer,
) -> None:
    release = analyzer.understand(
        "", "В Митине на 750 посещений открыли 3 новых центра. Запись с 14 марта в Митине."
    ).story
    copy = analyzer.understand(
        "", "В Митине открыли 3 новых центра на 750 посещений, запись с 14 марта."
    ).story
    index = StoryIndex()
    index.add(1, 1, release, T0, source="mosru")
    verdict = index.explain(copy, T0 + timedelta(hours=5), 1, source="szao")
    lines = verdict.lines()
    assert lines[0].startswith(f"score {verdict.probability:.3f} (threshold ")
    model = index.model
    for name, weight in zip(model.features, model.weights, strict=True):
        value = FEATURES[name](verdict.evidence)
        line = next(line for line in lines if f"[{name} = " in line)
        assert line.endswith(f"{weight * value:+7.2f}")
    assert any("numbers agree: март 14; посещение 750; центр 3" in line for line in lines)
    assert any("same place (mitino)" in line for line in lines)
    assert lines[-1] == "  hours apart: 5.0; estimated Jaccard " + f"{verdict.evidence.jaccard:.2f}"
    assert verdict.summary().startswith(
        ("same story: score", "not the same story: score")
    )


# --- fitting --------------------------------------------------------------------------------


def test_fit_recovers_weights_and_keeps_their_signs() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0] - 1.0 * x[:, 1])))).astype(float)
    intercept, weights = fit_logistic(x, y, 0.01)
    assert intercept == pytest.approx(0.5, abs=0.15)
    assert weights == pytest.approx([2.0, -1.0], abs=0.15)
    # A weight constrained to the other side is held at zero, the rest refitted.
    _, constrained = fit_logistic(x, y, 0.01, signs=[+1, +1])
    assert constrained[1] == 0.0 and constrained[0] > 1.0


def test_threshold_is_the_lowest_from_which_precision_holds() -> None:
    probs = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.3])
    labels = np.array([1, 1, 1, 0, 1, 0], float)
    assert choose_threshold(probs, labels, 0.98) == 0.71


def test_names_of_things_conflict_whatever_their_size() -> None:
    school_1, school_7 = by_word([("№школа", "1")]), by_word([("№школа", "7")])
    assert conflicts(school_1, school_7) == ([], ["№школа 1 ≠ 7"], [])
