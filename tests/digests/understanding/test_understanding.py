"""The facade, search lemmas and the morphology layer."""

from __future__ import annotations

from digests.understanding.analyzer import Analyzer, get_analyzer, lemmas_for_search
from digests.understanding.morph import fold_text, get_morph, tokenize
from digests.understanding.stories import StoryFeatures


def test_analyzer_is_a_singleton() -> None:
    assert get_analyzer("moscow") is get_analyzer("moscow")
    assert get_morph() is get_morph()


def test_search_lemmas_find_inflected_words() -> None:
    assert lemmas_for_search("Школы") == "школа"
    assert "школа" in lemmas_for_search("В школах района").split()
    assert lemmas_for_search("Ёлки") == lemmas_for_search("Елки")


def test_tokenize_splits_hyphens_and_keeps_offsets() -> None:
    folded = fold_text("Хорошёво-Мнёвники, дом 5")
    toks = tokenize(folded)
    assert toks.words == ["хорошево", "мневники", "дом", "5"]
    assert toks.gaps == ["", "-", ", ", " "]
    assert folded[toks.start(1) : toks.end(1)] == "мневники"


def test_understand_returns_everything(analyzer: Analyzer) -> None:
    u = analyzer.understand(
        "В Куркине открыли поликлинику",
        "МОСКВА, 12 ноября — В районе Куркино открыли поликлинику на 300 посещений. "
        "Врачи принимают пациентов ежедневно.\nФото: mos.ru",
    )
    assert u.districts == ("kurkino",)
    assert u.okrugs == ("szao",)
    assert u.topics[0] == "health"
    assert u.summary.startswith("В районе Куркино открыли поликлинику")
    assert "поликлиника" in u.search_lemmas.split()
    assert StoryFeatures.from_bytes(u.story.to_bytes()).n_shingles == u.story.n_shingles
    assert "300" in u.story.numbers


def test_story_features_carry_content_terms(analyzer: Analyzer) -> None:
    u = analyzer.understand(
        "В Некрасовке построили школу",
        "В районе Некрасовка завершили строительство школы на 2100 учеников. В школе "
        "84 класса, бассейн и планетарий, сообщили в Москве.",
    )
    terms = u.story.terms
    assert {"некрасовка", "2100", "планетарий", "бассейн"} <= terms
    assert "москва" not in terms  # generic news words carry no story identity
    assert StoryFeatures.from_bytes(u.story.to_bytes()).terms == terms
