"""Near-duplicate clustering into stories."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from digests.region import load_region
from digests.understanding.analyzer import Analyzer
from digests.understanding.stories import (
    StoryFeatures,
    StoryIndex,
    StoryVocabulary,
    story_features,
)
from digests.understanding.stories.evidence import PLACE_CONFLICT

T0 = datetime.fromisoformat("2025-11-10T10:00:00+03:00")

RELEASE = [
    "Мэр Москвы сообщил, что в 2026 году в городе завершат капитальный ремонт ещё 42 "
    "поликлиник. Работы идут по единому стандарту: в зданиях меняют инженерные сети, окна, "
    "кровлю, устанавливают новые лифты и современное медицинское оборудование.",
    "На время ремонта пациентов прикрепляют к соседним филиалам, а для маломобильных "
    "жителей организуют бесплатную перевозку. Врачей переводят вместе с участками, поэтому "
    "менять терапевта не придётся. Записаться на приём можно через портал mos.ru.",
    "В обновлённых поликлиниках появляются кабинеты дежурного врача, зоны комфортного "
    "ожидания и отдельные входы для пациентов с температурой. Приём ведут терапевты, "
    "хирурги, кардиологи, неврологи и другие специалисты.",
]
OTHER = (
    "В парке прошёл фестиваль уличной еды. Гости попробовали блюда из разных регионов, "
    "посмотрели выступления музыкантов и поучаствовали в мастер-классах по кулинарии. "
    "Организаторы рассказали, что фестиваль посетили более десяти тысяч человек."
)


def feats(analyzer: Analyzer, text: str, title: str = "") -> StoryFeatures:
    return analyzer.understand(title, text).story


def run(index: StoryIndex, items: list[tuple[int, StoryFeatures, datetime]]) -> list[int]:
    out = []
    for aid, f, t in items:
        m = index.assign(f, t)
        sid = m.story_id if m.story_id is not None else 1000 + aid
        index.add(aid, sid, f, t, source=f"feed{aid}")
        out.append(sid)
    return out


def test_republished_release_with_reordered_paragraphs_merges(analyzer: Analyzer) -> None:
    a = feats(analyzer, "\n\n".join(RELEASE), "Собянин рассказал о ремонте поликлиник")
    b = feats(analyzer, "\n\n".join([RELEASE[2], RELEASE[0], RELEASE[1]]), "Поликлиники закроют")
    idx = StoryIndex()
    sids = run(idx, [(1, a, T0), (2, b, T0 + timedelta(hours=5))])
    assert sids[0] == sids[1]
    assert idx.sources(sids[0]) == ("feed1", "feed2")


def test_edited_copy_keeping_most_text_merges(analyzer: Analyzer) -> None:
    a = feats(analyzer, "\n\n".join(RELEASE))
    b = feats(
        analyzer,
        "В Северном округе отремонтируют поликлиники, рассказали в префектуре.\n\n"
        + "\n\n".join(RELEASE[:2]),
    )
    _, c = a.similarity(b)
    assert c > 0.6


def test_unrelated_articles_do_not_merge(analyzer: Analyzer) -> None:
    a = feats(analyzer, "\n\n".join(RELEASE))
    b = feats(analyzer, OTHER)
    idx = StoryIndex()
    sids = run(idx, [(1, a, T0), (2, b, T0)])
    assert sids[0] != sids[1]


def test_template_articles_in_different_districts_do_not_merge(analyzer: Analyzer) -> None:
    body = (
        "В районе {d} открыли новую спортивную площадку. Она появилась во дворе дома 12. "
        "На площадке установили тренажёры, турники, брусья и рукоход, а также оборудовали "
        "поле для мини-футбола и баскетбола. Площадку построили по предложению жителей, "
        "заниматься на ней можно бесплатно круглый год."
    )
    a = feats(analyzer, body.format(d="Куркино"))
    b = feats(analyzer, body.format(d="Щукино"))
    assert a.similarity(b)[1] > 0.8  # textually almost identical...
    idx = StoryIndex()
    sids = run(idx, [(1, a, T0), (2, b, T0 + timedelta(hours=1))])
    assert sids[0] != sids[1]  # ...but different districts


def test_template_articles_with_different_numbers_do_not_merge(analyzer: Analyzer) -> None:
    body = (
        "За неделю в Москве высадили {n} деревьев и кустарников по программе «Миллион "
        "деревьев». Саженцы привозят из питомников с закрытой корневой системой, поэтому они "
        "приживаются почти без потерь. Ухаживать за молодыми деревьями будут три года."
    )
    a = feats(analyzer, body.format(n="1200"))
    b = feats(analyzer, body.format(n="2300"))
    idx = StoryIndex()
    assert run(idx, [(1, a, T0), (2, b, T0 + timedelta(days=1))])[0] != idx.story_of(2)


def test_same_canonical_url_is_same_story(analyzer: Analyzer) -> None:
    a = feats(analyzer, "\n\n".join(RELEASE))
    b = feats(analyzer, OTHER)  # the text changed, the URL did not
    idx = StoryIndex()
    idx.add(1, 7, a, T0, url="https://mos.ru/news/1")
    assert idx.assign(b, T0, url="https://mos.ru/news/1").story_id == 7


def test_window_limits_matching(analyzer: Analyzer) -> None:
    a = feats(analyzer, "\n\n".join(RELEASE))
    idx = StoryIndex(window=timedelta(hours=72))
    idx.add(1, 7, a, T0)
    assert idx.assign(a, T0 + timedelta(hours=71)).story_id == 7
    assert idx.assign(a, T0 + timedelta(hours=73)).story_id is None
    assert idx.prune(T0 + timedelta(hours=73)) == 1
    assert len(idx) == 0


def test_representative_is_most_complete_copy(analyzer: Analyzer) -> None:
    short = feats(analyzer, "\n\n".join(RELEASE[:2]))
    full = feats(analyzer, "\n\n".join(RELEASE))
    idx = StoryIndex()
    first = idx.add(1, 7, short, T0)
    assert first.representative_id == 1 and first.representative_changed
    assert idx.assign(full, T0 + timedelta(hours=1)).story_id == 7
    second = idx.add(2, 7, full, T0 + timedelta(hours=1))
    assert second.representative_id == 2 and second.representative_changed
    assert idx.members(7) == (1, 2)
    idx.remove(2)
    assert idx.representative(7) == 1


def test_signature_bytes_roundtrip_and_determinism(analyzer: Analyzer) -> None:
    f = feats(analyzer, "В районе Куркино открыли площадку на 12 тренажёров.")
    g = StoryFeatures.from_bytes(f.to_bytes())
    assert np.array_equal(f.signature, g.signature)
    assert (g.n_shingles, g.districts, g.numbers, g.length) == (
        f.n_shingles, f.districts, f.numbers, f.length,
    )  # fmt: skip
    # Stable across processes and machines (BLAKE2b, never the salted hash()): golden values.
    h = story_features(["новый", "школа", "открыть", "район", "куркино"])
    assert [int(x) for x in h.signature[:4]] == [91060890, 396174000, 1258197245, 2308948102]


def test_empty_text_never_matches() -> None:
    f = story_features([])
    idx = StoryIndex()
    idx.add(1, 1, f, T0)
    assert idx.assign(f, T0).story_id is None


def test_settlements_round_trip_and_old_layout() -> None:
    from digests.understanding.stories import StoryFeatures, story_features

    words = ["в", "поселение", "роговский", "отремонтировать", "6", "километр", "дорога"]
    f = story_features(words, districts=["voronovo"], settlements=["rogovskoe"], length=10)
    back = StoryFeatures.from_bytes(f.to_bytes())
    assert back.settlements == frozenset({"rogovskoe"}) and back.districts == f.districts
    plain = story_features(words, districts=["voronovo"], length=10)
    # Without settlements the bytes keep the original two-section layout.
    assert plain.to_bytes().endswith(b"voronovo\x1e6")
    assert StoryFeatures.from_bytes(plain.to_bytes()).settlements == frozenset()


def test_template_texts_about_two_settlements_of_one_district_are_two_stories() -> None:
    from datetime import datetime

    from digests.understanding.stories import StoryIndex, story_features

    body = ("в поселение отремонтировать 6 километр дорога деревня тротуар освещение " * 8).split()
    a = story_features(body, districts=["voronovo"], settlements=["voronovskoe"])
    b = story_features(body, districts=["voronovo"], settlements=["rogovskoe"])
    index = StoryIndex()
    t = datetime(2025, 12, 1)
    index.add(1, 1, a, t)
    assert index.assign(b, t).story_id is None
    assert index.assign(a, t).story_id == 1


# --- paraphrased republications (the content-term channel) --------------------------------

BRIDGE = (
    "Сергей Собянин открыл новый пешеходный мост через Москву-реку в районе Нагатинский Затон. "
    "Длина переправы составляет 270 метров, ширина — 9 метров.\n\n"
    "Мост соединил набережную Нагатинского Затона с парком «Коломенское». По нему смогут "
    "проходить до 6 тысяч человек в час. На мосту установили скамейки, смотровые площадки и "
    "подогреваемые пандусы для маломобильных пешеходов.\n\n"
    "Строительство продолжалось полтора года. Вечером мост подсвечивают 340 светодиодных "
    "светильников."
)
# The same release rewritten sentence by sentence, as an okrug paper would.
BRIDGE_REWRITE = (
    "Жители Нагатинского Затона получили прямой выход к парку «Коломенское»: мэр Сергей "
    "Собянин открыл пешеходную переправу через Москву-реку.\n\n"
    "Новый мост протянулся на 270 метров, а его ширина — 9 метров. Пропускная способность "
    "сооружения — 6 тысяч пешеходов ежечасно.\n\n"
    "Для отдыха на мосту предусмотрены скамьи и видовые площадки, для людей на колясках — "
    "пандусы с подогревом. Возводили объект полтора года, в тёмное время суток его освещают "
    "340 светодиодных светильников."
)


def test_paraphrased_release_joins_its_story(analyzer: Analyzer) -> None:
    a = feats(analyzer, BRIDGE)
    b = feats(analyzer, BRIDGE_REWRITE)
    assert a.similarity(b)[1] < 0.45  # too little shared wording for the first channel...
    idx = StoryIndex()
    idx.add(1, 7, a, T0)
    m = idx.assign(b, T0 + timedelta(hours=6))
    assert m.story_id == 7  # ...but the same names, numbers and specific words
    assert m.reason.startswith("same story") and m.overlap >= 0.4
    assert m.probability >= idx.model.threshold
    assert "коломенский" in m.reason or "340" in m.reason  # explains itself by shared words


def test_same_template_other_district_stays_apart(analyzer: Analyzer) -> None:
    a = feats(analyzer, BRIDGE)
    b = feats(analyzer, BRIDGE.replace("Нагатинский Затон", "Хорошёво-Мнёвники")
              .replace("Нагатинского Затона", "Хорошёва-Мнёвников"))  # fmt: skip
    assert a.districts and b.districts and not (a.districts & b.districts)
    idx = StoryIndex()
    idx.add(1, 7, a, T0)
    m = idx.assign(b, T0 + timedelta(hours=1))
    assert m.story_id is None
    assert [aid for aid, _ in m.rejected] == [1]
    why = idx.explain(b, T0 + timedelta(hours=1), 1)
    assert why.evidence.places == PLACE_CONFLICT  # one place each, and they differ
    place = dict((n, c) for n, _, c in why.score.contributions)["other_place_in_verbatim"]
    assert place < -5  # in an otherwise verbatim text, the other district decides


def test_other_numbers_count_against_a_rewrite(analyzer: Analyzer) -> None:
    a = feats(analyzer, BRIDGE)
    faithful = feats(analyzer, BRIDGE_REWRITE)
    changed = feats(analyzer, BRIDGE_REWRITE.replace("270", "210").replace("340", "200"))
    idx = StoryIndex()
    idx.add(1, 7, a, T0)
    same = idx.explain(faithful, T0 + timedelta(hours=1), 1)
    other = idx.explain(changed, T0 + timedelta(hours=1), 1)
    assert other.evidence.numbers_conflict == ("метр 9, 210 ≠ 9, 270", "светильник 200 ≠ 340")
    assert not same.evidence.numbers_conflict
    assert other.score.logit < same.score.logit


def test_same_place_and_topic_other_event_stays_apart(analyzer: Analyzer) -> None:
    warehouse = feats(
        analyzer,
        "Ночью в районе Печатники загорелся склад строительных материалов на улице Гурьянова. "
        "Площадь пожара составила 800 квадратных метров. На место прибыли 60 пожарных и 18 "
        "единиц техники. Открытое горение ликвидировали через три часа. Пострадавших нет. "
        "Причину возгорания устанавливают дознаватели МЧС.",
    )
    garage = feats(
        analyzer,
        "Вечером в районе Печатники загорелся гаражный бокс на Шоссейной улице. Пламя "
        "охватило 40 квадратных метров, внутри находились два автомобиля. Пожар потушили "
        "пожарные за полчаса. Пострадавших нет. Причину возгорания устанавливают специалисты "
        "МЧС, по предварительной версии, произошло короткое замыкание.",
    )
    idx = StoryIndex()
    idx.add(1, 7, warehouse, T0)
    assert idx.assign(garage, T0 + timedelta(hours=20)).story_id is None


def test_paraphrase_outside_the_window_is_a_new_story(analyzer: Analyzer) -> None:
    idx = StoryIndex(window=timedelta(hours=72))
    idx.add(1, 7, feats(analyzer, BRIDGE), T0)
    b = feats(analyzer, BRIDGE_REWRITE)
    assert idx.assign(b, T0 + timedelta(hours=71)).story_id == 7
    assert idx.assign(b, T0 + timedelta(hours=73)).story_id is None


def test_removed_article_no_longer_attracts_paraphrases(analyzer: Analyzer) -> None:
    idx = StoryIndex()
    idx.add(1, 7, feats(analyzer, BRIDGE), T0)
    idx.remove(1)
    assert idx.assign(feats(analyzer, BRIDGE_REWRITE), T0).story_id is None
    assert not idx._postings and not idx._df.any()  # nothing left behind


def test_generic_news_words_are_not_content_terms() -> None:
    lemmas = [
        "мэр",
        "москва",
        "сообщить",
        "что",
        "в",
        "район",
        "житель",
        "открыть",
        "новый",
        "планетарий",
        "на",
        "340",
        "место",
    ]
    moscow = StoryVocabulary(load_region("moscow").names.generic_words)
    f = story_features(lemmas, vocabulary=moscow)
    assert {"планетарий", "340", "место", "открыть"} <= f.terms
    assert not f.terms & {"москва", "мэр", "сообщить", "район", "житель", "новый", "в", "что"}
    # The city's own name is generic because the region's data says so, not the language.
    assert "москва" in story_features(lemmas).terms


def test_content_terms_round_trip_and_version_1_bytes_still_load() -> None:
    import struct

    words = ["в", "поселение", "роговский", "отремонтировать", "6", "километр", "дорога"]
    f = story_features(words, districts=["voronovo"], length=10)
    data = f.to_bytes()
    assert data[0] == 3 and data.endswith(b"voronovo\x1e6")  # v1 sections stay at the end
    back = StoryFeatures.from_bytes(data)
    assert back.terms == f.terms and back.numbers == f.numbers
    assert sorted(back.hashes.tolist()) == sorted(f.hashes.tolist())
    # Version 2 (content terms, no quantities) loads with no quantities.
    terms = "\x1f".join(sorted(f.terms)).encode()
    v2 = (
        struct.pack("<BII", 2, f.n_shingles, 10) + f.signature.astype("<u4").tobytes()
        + struct.pack("<I", len(terms)) + terms + b"voronovo\x1e6"
    )  # fmt: skip
    g2 = StoryFeatures.from_bytes(v2)
    assert g2.terms == f.terms and g2.quantities == frozenset() and g2.numbers == {"6"}
    # Bytes written before content terms existed (version 1) load with no terms.
    old = (
        struct.pack("<BII", 1, f.n_shingles, 10)
        + f.signature.astype("<u4").tobytes()
        + b"voronovo\x1e6"
    )
    g = StoryFeatures.from_bytes(old)
    assert g.terms == frozenset() and g.districts == {"voronovo"} and g.numbers == {"6"}
    assert np.array_equal(g.signature, f.signature)
    idx = StoryIndex()  # such an article is still found as a near-duplicate and weighed
    idx.add(1, 3, g, T0)
    assert idx.candidates(f, T0) == [1]
    assert idx.explain(f, T0, 1).evidence.containment == 1.0
