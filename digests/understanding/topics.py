"""Topic classification: a fixed taxonomy of 12 topics, 1–3 per article.

Each topic has a lexicon of folded lemmas (and a few two-lemma phrases) with weights:
3 — the word alone nearly decides the topic («поликлиника», «метро»), 2 — typical,
1 — supporting. A document scores the sum of weights over its lemmas, each lemma counted at
most ``_MAX_REPEATS`` times so one repeated word cannot carry an article, with title words
counted ``_TITLE_BOOST`` times. The best topic is always kept when it is clear enough; others
are kept when close to it. Every point is traceable (:meth:`TopicClassifier.explain`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice

import numpy as np
import numpy.typing as npt

from digests.i18n import N_

__all__ = [
    "TOPICS",
    "TOPIC_NAMES",
    "TopicClassifier",
    "TopicResult",
]

TOPICS: tuple[str, ...] = (
    "transport",
    "housing",
    "construction",
    "education",
    "health",
    "social",
    "culture",
    "sport",
    "safety",
    "ecology",
    "economy",
    "government",
)

TOPIC_NAMES: dict[str, str] = {
    "transport": N_("Transport"),
    "housing": N_("Housing and utilities"),
    "construction": N_("Construction"),
    "education": N_("Education"),
    "health": N_("Health"),
    "social": N_("Social support"),
    "culture": N_("Culture and leisure"),
    "sport": N_("Sport"),
    "safety": N_("Safety"),
    "ecology": N_("Ecology"),
    "economy": N_("Economy"),
    "government": N_("Government"),
}


def _lex(spec: str) -> dict[str, float]:
    """Parse «3: метро мцд; 2: автобус» into {lemma: weight}; phrases use «_» for a space."""
    out: dict[str, float] = {}
    for chunk in spec.split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        weight, words = chunk.split(":", 1)
        for w in words.split():
            out[w.replace("_", " ").replace("ё", "е")] = float(weight)
    return out


# Lemmas as pymorphy3 gives them (folded). Two-word phrases are lemma bigrams.
_LEXICON: dict[str, dict[str, float]] = {
    "transport": _lex(
        """
        3: метро метрополитен мцд мцк автобус трамвай троллейбус электробус электричка
           транспорт транспортный пассажир пассажиропоток парковка парковочный велодорожка
           перекрытие перекрыть светофор маршрут остановка пересадка
           станция_метро наземный_транспорт дорожный_движение такси каршеринг велосипед
           самокат эстакада развязка дорожный путепровод вестибюль поезд пригородный
           электропоезд железнодорожный;
        2: дорога шоссе проспект магистраль движение водитель проезд полоса
           тоннель пешеходный переход съезд интервал рейс вагон депо линия
           аэропорт аэроэкспресс тариф тройка вокзал платформа трасса пробка;
        1: улица мост перегон станция
        """
    ),
    "housing": _lex(
        """
        3: жкх коммунальный отопление водоснабжение горячий_вода холодный_вода
           капремонт капитальный_ремонт благоустройство благоустроить двор дворовый
           подъезд лифт отключение отключить электроснабжение освещение фонарь
           снег снегопад уборка_снег наледь сосулька управляющая_компания жилищник
           мкд многоквартирный кровля крыша фасад газоснабжение канализация
           теплоснабжение квитанция тротуар газон озеленение;
        2: жилец жилой квартира дом придомовый детский_площадка площадка
           плитка асфальт скамейка сквер озеленить подвал коммунальщик тепло
           батарея водопровод авария течь прорыв свет электричество;
        1: подготовка сезон ремонт
        """
    ),
    "construction": _lex(
        """
        3: строительство строить построить застройщик реновация стройка новостройка
           возведение возвести ввод_эксплуатация ввести_эксплуатация градостроительный
           жилой_комплекс снос проект_планировка девелопер котлован монолитный
           переселение новосел заселение;
        2: строитель генплан реконструкция реконструировать проектирование
           квадратный_метр этажность здание корпус новый_дом территория
           комплексный_развитие площадь участок объект мосгосстройнадзор
           стартовый_площадка возводить;
        1: проект дом квартира работа
        """
    ),
    "education": _lex(
        """
        3: школа школьник ученик учитель педагог детский_сад детсад дошкольный
           колледж университет вуз студент абитуриент егэ огэ экзамен олимпиада
           образование образовательный выпускник первоклассник урок
           гимназия лицей кружок обучение учиться учебный;
        2: учебный_год образовательный_комплекс преподаватель выпускной
           знание профориентация занятие курс лекция дошкольник воспитанник;
        1: ребенок дети программа конкурс класс
        """
    ),
    "health": _lex(
        """
        3: поликлиника больница госпиталь врач медицинский медик здравоохранение
           пациент вакцинация прививка диспансеризация обследование скрининг
           медцентр клиника терапевт педиатр стационар лечение лечить заболевание
           болезнь здоровье павильон_здоровый_москва донор донорство скорый_помощь
           медицина онкология диагностика;
        2: кабинет анализ давление зрение хронический профилактика профилактический
           медсестра операция прием_врач грипп орви коронавирус рецепт аптека;
        1: центр осмотр
        """
    ),
    "social": _lex(
        """
        3: пенсионер пенсия соцзащита социальный_защита социальный_поддержка
           льгота льготный пособие выплата малоимущий многодетный инвалид
           инвалидность ограниченный_возможность московский_долголетие долголетие
           ветеран волонтер волонтерский благотворительный благотворительность
           центр_социальный_обслуживание цсо мой_социальный субсидия опека
           старшее_поколение серебряный_волонтер;
        2: семья пожилой соцработник помощь поддержка малообеспеченный сирота
           нуждаться нуждающийся адресный социальный компенсация участник_долголетие
           сво мобилизовать;
        1: житель бесплатно бесплатный
        """
    ),
    "culture": _lex(
        """
        3: музей библиотека театр спектакль концерт выставка фестиваль экскурсия
           культурный культура кинотеатр кино фильм премьера артист художник
           творческий галерея праздник праздничный мастер_класс народный_гулянье
           гулянье ярмарка_выходной_день досуг досуговый дом_культура;
        2: усадьба экспозиция писатель поэт музыкальный оркестр хор танец
           танцевальный песня литературный книга читатель лекторий квест
           мероприятие программа_праздник ночь_музей библионочь афиша развлечение
           исторический история памятник юбилей;
        1: парк площадка гость
        """
    ),
    "sport": _lex(
        """
        3: спорт спортивный спортсмен соревнование турнир чемпионат первенство
           матч футбол хоккей баскетбол волейбол теннис шахматы бокс борьба лыжный
           лыжня каток забег марафон фитнес тренировка тренер гто стадион
           физкультура физкультурный спортплощадка спорткомплекс олимпийский
           воркаут бассейн медаль чемпион;
        2: команда игра победитель кубок площадка_воркаут спортивный_площадка
           зарядка йога беговой скандинавский_ходьба велозаезд;
        1: участник площадка победа
        """
    ),
    "safety": _lex(
        """
        3: полиция полицейский пожар пожарный мчс происшествие дтп авария_дорога
           задержать задержание преступление преступник мошенник мошенничество
           злоумышленник кража украсть грабеж нападение спасатель спасти эвакуация
           эвакуировать чп возгорание погибнуть пострадать пострадавший уголовный
           следственный ску прокуратура безопасность терроризм антитеррористический
           суд приговор столкнуться столкновение госпитализировать;
        2: сотрудник_полиция участковый гибдд госавтоинспекция нарушение нарушитель
           штраф предупреждать осторожность бдительность телефонный_мошенник
           звонок лжесотрудник огнетушитель дым тонуть лед_водоем;
        1: инцидент
        """
    ),
    "ecology": _lex(
        """
        3: экология экологический природа природный заповедник заказник
           лесопарк мусор отход переработка раздельный_сбор вторсырье утилизация
           экоцентр животное собака кошка приют птица белка зоопарк выброс воздух
           загрязнение посадка_дерево высадить саженец дерево кустарник озеленение
           пруд водоем река родник особо_охранять природоохранный мосприрода
           субботник экоакция;
        2: лес лесной парк клещ батарейка пластик эко зеленый_насаждение
           цветник клумба растение сад акция_лес;
        1: территория
        """
    ),
    "economy": _lex(
        """
        3: предприятие промышленный промышленность производство завод фабрика
           бизнес предприниматель предпринимательство малый_бизнес инвестор
           инвестиция инвестиционный технопарк индустриальный экономика экономический
           торговля торговый ярмарка магазин рынок нестационарный вакансия
           трудоустройство занятость работодатель зарплата безработица закупка
           тендер аукцион контракт налог налоговый кредит банк импортозамещение
           экспорт стартап особый_экономический оэз;
        2: компания выручка оборот производитель продукция товар рабочий_место
           кадровый ярмарка_вакансия резидент площадка_производство арендный
           аренда торги покупатель продавец цена;
        1: рубль миллиард миллион
        """
    ),
    "government": _lex(
        """
        3: префект префектура управа глава_управа совет_депутат депутат
           выборы избирательный голосование голосовать правительство_москва
           постановление распоряжение указ законопроект закон мосгордума дума
           соглашение подписать_соглашение губернатор администрация муниципальный
           чиновник бюджет активный_гражданин публичный_слушание сессия заседание;
        2: правительство власть решение утвердить департамент заммэр заместитель_мэр
           глава встреча_житель прием_населения отчет отчитаться комиссия
           официальный округ_управа сотрудничество регион;
        1: город программа мэр собянин
        """
    ),
}

_TITLE_BOOST = 3  # a title word counts as this many body occurrences
_MAX_REPEATS = 3  # occurrences of one lemma counted in the body
_MIN_SCORE = 4.0  # below this the best topic is not trusted at all
_RELATIVE = 0.55  # secondary topics must reach this share of the best score (0.45 before
# the long v2 devset: longer texts collect more incidental words of other topics)
_SECOND_MIN = 6.0  # ...and this absolute score
_MAX_TOPICS = 3


@dataclass(frozen=True, slots=True)
class TopicResult:
    topics: tuple[str, ...]
    scores: dict[str, float]
    # topic → [(lemma or phrase, points)] sorted by points, for explain
    contributions: dict[str, list[tuple[str, float]]]


class TopicClassifier:
    def __init__(
        self,
        lexicon: dict[str, dict[str, float]] | None = None,
        lemmatize: Callable[[str], str] | None = None,
    ) -> None:
        """``lemmatize`` maps lexicon words through the same lemmatiser as the text, so the
        lexicon can be written in plain dictionary forms («управляющая компания»)."""
        lex = lexicon if lexicon is not None else _LEXICON
        norm: Callable[[str], str] = lemmatize if lemmatize is not None else (lambda w: w)
        # lemma (or lemma pair) → [(topic, weight)], so scoring is one dict lookup per lemma
        self._unigrams: dict[str, list[tuple[str, float]]] = {}
        self._bigrams: dict[tuple[str, str], list[tuple[str, float]]] = {}
        for topic, raw_words in lex.items():
            words: dict[str, float] = {}
            for raw, weight in raw_words.items():
                key = " ".join(norm(p) for p in raw.split(" "))
                words[key] = max(weight, words.get(key, 0.0))  # forms sharing a lemma
            for word, weight in words.items():
                if " " in word:
                    parts = word.split(" ")
                    # Three-word phrases are matched by their first two lemmas.
                    self._bigrams.setdefault((parts[0], parts[1]), []).append((topic, weight))
                else:
                    self._unigrams.setdefault(word, []).append((topic, weight))
        # Dense form for scoring: key index → row of topic weights.
        self._topics = tuple(lex)
        keys: list[str | tuple[str, str]] = [*self._unigrams, *self._bigrams]
        self._keys = keys
        self._index: dict[str | tuple[str, str], int] = {k: i for i, k in enumerate(keys)}
        col = {t: i for i, t in enumerate(self._topics)}
        self._weights = np.zeros((len(keys), len(self._topics)), dtype=np.float64)
        for i, k in enumerate(keys):
            entries = self._unigrams[k] if isinstance(k, str) else self._bigrams[k]
            for topic, weight in entries:
                self._weights[i, col[topic]] = weight

    def _counts(self, lemmas: Sequence[str]) -> npt.NDArray[np.int64]:
        """Occurrences of every lexicon key (lemma or lemma pair), as a dense vector.
        filter/zip/map/bincount all run in C: no Python-level loop over the words."""
        index = self._index
        found: Iterable[str | tuple[str, str]] = filter(index.__contains__, lemmas)
        if len(lemmas) > 1:
            pairs = zip(lemmas, islice(lemmas, 1, None), strict=False)
            found = chain(found, filter(index.__contains__, pairs))
        hits = np.fromiter(map(index.__getitem__, found), dtype=np.int64)
        return np.bincount(hits, minlength=len(self._keys))

    def classify(
        self, title_lemmas: Sequence[str], body_lemmas: Sequence[str], *, explain: bool = False
    ) -> TopicResult:
        n = np.minimum(self._counts(body_lemmas), _MAX_REPEATS)
        if title_lemmas:
            n += _TITLE_BOOST * np.minimum(self._counts(title_lemmas), 1)
        present = np.flatnonzero(n)
        if present.size == 0:
            return TopicResult((), {}, {})
        # Weights are positive, so a topic scores > 0 exactly when one of its keys occurs.
        vec = n[present].astype(np.float64) @ self._weights[present]
        scores = {t: float(v) for t, v in zip(self._topics, vec.tolist(), strict=True) if v > 0}
        contributions: dict[str, list[tuple[str, float]]] = {}
        if explain:
            for i, times in zip(present.tolist(), n[present].tolist(), strict=True):
                key = self._keys[i]
                word = key if isinstance(key, str) else " ".join(key)
                for topic, weight in zip(self._topics, self._weights[i].tolist(), strict=True):
                    if weight:
                        contributions.setdefault(topic, []).append((word, weight * times))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], TOPICS.index(kv[0])))
        chosen: list[str] = []
        if ranked and ranked[0][1] >= _MIN_SCORE:
            best = ranked[0][1]
            chosen.append(ranked[0][0])
            for topic, score in ranked[1:_MAX_TOPICS]:
                if score >= _RELATIVE * best and score >= _SECOND_MIN:
                    chosen.append(topic)
        for lst in contributions.values():
            lst.sort(key=lambda kv: -kv[1])
        return TopicResult(tuple(chosen), scores, contributions)
