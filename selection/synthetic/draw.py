"""The one random draw behind both outputs, as numpy arrays, and its parameters."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from selection.synthetic.catalogue import (
    CAS_FUNDER,
    CAS_NAME,
    CHINESE_ABROAD,
    CHINESE_FUNDERS,
    DOMAINS,
    DOMESTIC,
    FAMILY_NAMES,
    FIELDS,
    FOREIGN_FUNDER_SHARE,
    FOREIGN_FUNDERS,
    GIVEN_NAMES,
    INSTITUTION_KINDS,
    INTERNATIONAL,
    MULTIDISCIPLINARY,
    OTHER_TYPES,
    VOCABULARY_SIZE,
    WORDS,
    SourceSpec,
    Topics,
    funder_names,
    institution_kind,
    institution_records,
    source_specs,
)

# --- citation and authorship parameters -------------------------------------------------

# Expected citations per year of age, by field: medicine and biology cite more than mathematics.
CITATIONS_PER_YEAR = {
    11: 3.5, 12: 0.8, 13: 6.5, 14: 3.0, 15: 5.5, 16: 6.0, 17: 4.5, 18: 3.0, 19: 3.5, 20: 2.5,
    21: 7.5, 22: 4.0, 23: 5.5, 24: 6.0, 25: 7.0, 26: 1.5, 27: 5.0, 28: 5.5, 29: 2.0, 30: 5.0,
    31: 3.5, 32: 3.0, 33: 2.0, 34: 1.8, 35: 2.0, 36: 2.0,
}
CITATION_AGE_EXPONENT = 1.2  # cumulative citations grow a little faster than age
CITATION_DISPERSION = 0.7  # negative-binomial shape: small means heavy skew
CITATION_GROWTH_COUPLING = 0.4  # a topic growing by g a year is cited exp(0.4 g) times its field's mean
# A work's citations of its k-th year weigh (k + 1) ** a, a drawn uniformly from this range:
# some works are cited more every year (hot), others mostly early (cooling down).
CITATION_ACCELERATION = (-0.5, 2.5)
AUTHORS_MEAN = {26: 2.5, 12: 1.6, 33: 2.5, 20: 2.2, 27: 8.0, 13: 7.0, 28: 6.5, 24: 7.0, 31: 6.0}
DEFAULT_AUTHORS_MEAN = 5.0
REFERENCES_MEAN = 45.0
REVIEW_SHARE = 0.12
SECOND_AFFILIATION_SHARE = 0.08
NO_AFFILIATION_SHARE = 0.03
FIRST_AUTHOR_IS_BEIJING_SHARE = 0.6
# the other authors: Beijing, other Chinese, CAS institutes outside Beijing, foreign
COAUTHOR_KIND_SHARES = (0.45, 0.25, 0.05, 0.25)
# corresponding author: first, last, none flagged
CORRESPONDING_SHARES = (0.45, 0.45, 0.10)
# source category of a work: domestic, Chinese journal registered abroad, international, multidisciplinary
SOURCE_CATEGORY_SHARES = (0.20, 0.10, 0.62, 0.08)
CHINESE_LANGUAGE_SHARE_IN_DOMESTIC = 0.4
NULL_SHARES = {"doi": 0.03, "abstract": 0.10, "primary_topic": 0.01, "fwci": 0.02, "percentile": 0.03}
TRAP_SHARE = 0.02  # of each trap kind, when with_traps
# A work's topics (OpenAlex gives up to three, mostly three): one, two or three of them;
# a secondary topic comes from the primary's subfield, its field, or anywhere (by weight).
TOPIC_COUNT_SHARES = (0.04, 0.08, 0.88)
SECONDARY_TOPIC_SOURCES = (0.62, 0.26, 0.12)
NEAR_TOPIC_ODDS = 0.5  # in the subfield (topics in file order, wrapping), the k-th next topic has odds 0.5 ** k
TOPIC_REDRAWS = 6  # a secondary topic equal to an earlier one is drawn again, from ever wider, this often
PRIMARY_SCORE = (0.90, 0.9999)  # OpenAlex topic scores: the primary's range ...
SECONDARY_SCORE_RATIO = (0.55, 0.97)  # ... and each next topic's score over the one before
TITLE_TOPIC_WORDS, ABSTRACT_TOPIC_WORDS = 3, 6  # words of the primary topic's vocabulary
KEYWORD_COUNT_SHARES = (0.04, 0.06, 0.15, 0.35, 0.28, 0.12)  # 0..5 keywords (none without a topic)
MAX_KEYWORDS = len(KEYWORD_COUNT_SHARES) - 1
OA_KINDS = ("closed", "publisher", "repository")  # the publisher's PDF, or a repository's landing page
OA_SHARES = (0.5, 0.3, 0.2)

TRAP_KINDS = (
    "cas_outside_beijing",  # only authors at CAS institutes outside Beijing (CAS in their lineage)
    "non_journal_source",  # repository, conference, ebook platform or no source
    "journal_without_issn",
    "outside_window",
    "retracted",
    "paratext",
    "other_type",  # preprint, letter, editorial, book-chapter
    "two_beijing_institutions",  # eligible: authors at two different Beijing institutions
)
ELIGIBLE_TRAPS = frozenset({"two_beijing_institutions"})

# --- the draw ---------------------------------------------------------------------------


@dataclass
class WorkDraws:
    """Every random choice for n works, as arrays (works: n; authors: A; affiliations: R)."""

    from_year: int
    to_year: int
    reference_year: int  # citations are counted up to this year (the harvest year)
    topic: np.ndarray  # index into Topics: the primary topic (when has_topic)
    has_topic: np.ndarray
    secondary_topics: np.ndarray  # (n, 2) indices into Topics, -1 for none (always none without a topic)
    topic_scores: np.ndarray  # (n, 3) scores of the primary and secondary topics, nan for none
    keyword_words: np.ndarray  # (n, MAX_KEYWORDS) distinct indices into WORDS, -1 for none
    funders: np.ndarray  # (n, funders) bool, columns in the order of funder_names()
    oa_kind: np.ndarray  # index into OA_KINDS
    year: np.ndarray
    day_of_year: np.ndarray
    type_index: np.ndarray  # 0 article, 1 review, 2.. OTHER_TYPES
    source: np.ndarray  # index into the sources, -1 for none
    language_zh: np.ndarray
    trap: np.ndarray  # index into TRAP_KINDS, -1 for none
    citations: np.ndarray
    counts_by_year: np.ndarray  # (n, years) citations per year, column j = reference_year - j
    fwci: np.ndarray  # nan when null
    percentile: np.ndarray  # nan when null
    references: np.ndarray
    has_doi: np.ndarray
    title_words: np.ndarray  # (n, 8) word indices
    abstract_words: np.ndarray  # (n, 16) word indices
    has_abstract: np.ndarray
    updated_day: np.ndarray
    author_offsets: np.ndarray  # n + 1
    author_name: np.ndarray  # A
    corresponding: np.ndarray  # A bool
    affiliation_offsets: np.ndarray  # A + 1
    affiliation_institution: np.ndarray  # R, index into INSTITUTIONS


def draw_works(n: int, seed: int, from_year: int, to_year: int, with_traps: bool, topics: Topics) -> WorkDraws:
    """All random choices for ``n`` works, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    institutions = institution_records()
    kinds = np.array([INSTITUTION_KINDS.index(institution_kind(r)) for r in institutions])
    specs = source_specs()

    trap_shares = np.full(len(TRAP_KINDS), TRAP_SHARE if with_traps else 0.0)
    trap = rng.choice(len(TRAP_KINDS) + 1, size=n, p=[1 - trap_shares.sum(), *trap_shares]) - 1
    is_trap = {kind: trap == TRAP_KINDS.index(kind) for kind in TRAP_KINDS}

    topic = rng.choice(len(topics.topic_ids), size=n, p=topics.weights)
    has_topic = rng.random(n) >= NULL_SHARES["primary_topic"]
    field_id = topics.field_ids[topic]
    domain_id = _by_field({f: spec[1] for f, spec in FIELDS.items()})[field_id]
    secondary_topics, topic_scores = _draw_secondary_topics(rng, topic, has_topic, topics)

    year = _draw_years(rng, topic, topics.growth, from_year, to_year)
    outside = is_trap["outside_window"]
    year[outside] = np.where(rng.random(outside.sum()) < 0.5, from_year - 1 - rng.integers(0, 2, outside.sum()), to_year + 1)
    reference_year = to_year + 1

    type_index = (rng.random(n) < REVIEW_SHARE).astype(np.int64)
    type_index[is_trap["other_type"]] = 2 + rng.integers(0, len(OTHER_TYPES), is_trap["other_type"].sum())

    source = _draw_sources(rng, n, domain_id, specs, is_trap)
    domestic_source = np.array([s.category == DOMESTIC for s in specs] + [False])[source]
    language_zh = domestic_source & (rng.random(n) < CHINESE_LANGUAGE_SHARE_IN_DOMESTIC)

    citations, counts_by_year, fwci, percentile = _draw_citations(
        rng, field_id, topics.growth[topic], year, reference_year
    )
    author_offsets, author_name, corresponding, affiliation_offsets, affiliation_institution = _draw_authorships(
        rng, field_id, kinds, is_trap
    )
    work_of_affiliation = np.repeat(np.repeat(np.arange(n), np.diff(author_offsets)), np.diff(affiliation_offsets))
    title_words = rng.integers(0, len(WORDS), size=(n, 8))
    abstract_words = rng.integers(0, len(WORDS), size=(n, 16))
    vocabulary = topics.vocabulary[topic]
    title_words[:, :TITLE_TOPIC_WORDS] = _vocabulary_words(rng, vocabulary, TITLE_TOPIC_WORDS)
    abstract_words[:, :ABSTRACT_TOPIC_WORDS] = _vocabulary_words(rng, vocabulary, ABSTRACT_TOPIC_WORDS)
    return WorkDraws(
        from_year=from_year,
        to_year=to_year,
        reference_year=reference_year,
        topic=topic,
        has_topic=has_topic,
        secondary_topics=secondary_topics,
        topic_scores=topic_scores,
        keyword_words=_draw_keywords(rng, vocabulary, has_topic),
        funders=_draw_funders(rng, domain_id, work_of_affiliation, affiliation_institution),
        oa_kind=rng.choice(len(OA_KINDS), size=n, p=OA_SHARES),
        year=year,
        day_of_year=rng.integers(0, 365, size=n),
        type_index=type_index,
        source=source,
        language_zh=language_zh,
        trap=trap,
        citations=citations,
        counts_by_year=counts_by_year,
        fwci=np.where(rng.random(n) < NULL_SHARES["fwci"], np.nan, fwci),
        percentile=np.where(rng.random(n) < NULL_SHARES["percentile"], np.nan, percentile),
        references=rng.poisson(REFERENCES_MEAN, size=n),
        has_doi=rng.random(n) >= NULL_SHARES["doi"],
        title_words=title_words,
        abstract_words=abstract_words,
        has_abstract=rng.random(n) >= NULL_SHARES["abstract"],
        updated_day=rng.integers(0, 300, size=n),
        author_offsets=author_offsets,
        author_name=author_name,
        corresponding=corresponding,
        affiliation_offsets=affiliation_offsets,
        affiliation_institution=affiliation_institution,
    )


def _by_field(values: dict[int, float]) -> np.ndarray:
    """A lookup array indexed by field id."""
    table = np.zeros(max(FIELDS) + 1, dtype=np.asarray(list(values.values())).dtype)
    for field_id, value in values.items():
        table[field_id] = value
    return table


def _draw_sources(rng, n: int, domain_id: np.ndarray, specs: list[SourceSpec], is_trap: dict) -> np.ndarray:
    category = rng.choice(len(SOURCE_CATEGORY_SHARES), size=n, p=SOURCE_CATEGORY_SHARES)
    source = np.empty(n, dtype=np.int64)
    for domain in DOMAINS:
        for cat in (DOMESTIC, CHINESE_ABROAD, INTERNATIONAL, MULTIDISCIPLINARY):
            candidates = [
                index for index, spec in enumerate(specs)
                if spec.category == cat and (cat == MULTIDISCIPLINARY or spec.domain_id == domain)
            ]
            chosen = (domain_id == domain) & (category == cat)
            source[chosen] = rng.choice(candidates, size=chosen.sum())
    # -1 stands for a work without a primary source
    non_journal = [index for index, spec in enumerate(specs) if spec.type != "journal"] + [-1]
    source[is_trap["non_journal_source"]] = rng.choice(non_journal, size=is_trap["non_journal_source"].sum())
    no_issn_journal = next(i for i, spec in enumerate(specs) if spec.type == "journal" and not spec.has_issn)
    source[is_trap["journal_without_issn"]] = no_issn_journal
    return source


def _draw_years(rng, topic: np.ndarray, growth: np.ndarray, from_year: int, to_year: int) -> np.ndarray:
    """Per work: a publication year of the window, with odds ``exp(growth * (year - from_year))``
    (``growth`` per topic), so fast topics publish more every year and shrinking ones less."""
    offsets = np.arange(to_year - from_year + 1)
    odds = np.exp(growth[:, None] * offsets[None, :])
    cumulative = np.cumsum(odds, axis=1) / odds.sum(axis=1, keepdims=True)
    position = (rng.random(len(topic))[:, None] > cumulative[topic]).sum(axis=1)
    return from_year + np.minimum(position, len(offsets) - 1)


@dataclass(frozen=True)
class _TopicBlocks:
    """The topics sorted by subfield and by field, and per topic where its blocks start,
    their sizes and its position in its subfield's block."""

    by_subfield: np.ndarray
    subfield_start: np.ndarray
    subfield_size: np.ndarray
    subfield_position: np.ndarray
    by_field: np.ndarray
    field_start: np.ndarray
    field_size: np.ndarray

    @classmethod
    def of(cls, topics: Topics) -> _TopicBlocks:
        def blocks(keys):
            order = np.argsort(keys, kind="stable")
            _, first, inverse, sizes = np.unique(keys[order], return_index=True, return_inverse=True, return_counts=True)
            start, size, position = np.empty_like(keys), np.empty_like(keys), np.empty_like(keys)
            start[order], size[order] = first[inverse], sizes[inverse]
            position[order] = np.arange(len(keys)) - first[inverse]
            return order, start, size, position

        by_subfield, subfield_start, subfield_size, subfield_position = blocks(topics.subfield_ids)
        by_field, field_start, field_size, _ = blocks(topics.field_ids)
        return cls(by_subfield, subfield_start, subfield_size, subfield_position, by_field, field_start, field_size)


def _draw_secondary_topics(rng, primary: np.ndarray, has_topic: np.ndarray, topics: Topics):
    """Per work: up to two secondary topics (``TOPIC_COUNT_SHARES``), each distinct from the
    topics before it, and the scores of all three (primary first, falling)."""
    n = len(primary)
    blocks = _TopicBlocks.of(topics)
    count = np.where(has_topic, 1 + rng.choice(len(TOPIC_COUNT_SHARES), size=n, p=TOPIC_COUNT_SHARES), 0)
    chosen = [primary]
    for slot in (1, 2):
        origin = rng.choice(len(SECONDARY_TOPIC_SOURCES), size=n, p=SECONDARY_TOPIC_SOURCES)
        topic = _secondary_topic(rng, primary, origin, blocks, topics.weights)
        for _ in range(TOPIC_REDRAWS):
            clash = np.zeros(n, dtype=bool)
            for earlier in chosen:
                clash |= topic == earlier
            if not clash.any():
                break
            origin[clash] = np.minimum(origin[clash] + 1, len(SECONDARY_TOPIC_SOURCES) - 1)
            topic[clash] = _secondary_topic(rng, primary[clash], origin[clash], blocks, topics.weights)
        for earlier in chosen:
            topic[topic == earlier] = -1
        chosen.append(np.where(count > slot, topic, -1))
    secondary = np.stack(chosen[1:], axis=1)
    # a dropped second topic hands its place to the third
    moves = (secondary[:, 0] < 0) & (secondary[:, 1] >= 0)
    secondary[moves] = secondary[moves][:, ::-1]

    ratios = rng.uniform(*SECONDARY_SCORE_RATIO, size=(n, 2))
    scores = np.empty((n, 3))
    scores[:, 0] = np.round(rng.uniform(*PRIMARY_SCORE, size=n), 4)
    for column in (1, 2):
        scores[:, column] = np.round(scores[:, column - 1] * ratios[:, column - 1], 4)
    present = np.column_stack([has_topic, secondary >= 0])
    return secondary, np.where(present, scores, np.nan)


def _secondary_topic(rng, primary: np.ndarray, origin: np.ndarray, blocks: _TopicBlocks, weights: np.ndarray):
    """Per work: a topic of the primary's subfield (``origin`` 0: mostly a near one), of its
    field (1; also when the subfield has no other topic) or any topic by weight (2)."""
    size = blocks.subfield_size[primary]
    near = (origin == 0) & (size > 1)
    anywhere = origin == 2
    in_field = ~near & ~anywhere
    topic = np.empty(len(primary), dtype=np.int64)
    p, k = primary[near], size[near]
    step = 1 + (rng.geometric(1 - NEAR_TOPIC_ODDS, size=len(p)) - 1) % (k - 1)
    topic[near] = blocks.by_subfield[blocks.subfield_start[p] + (blocks.subfield_position[p] + step) % k]
    p = primary[in_field]
    topic[in_field] = blocks.by_field[blocks.field_start[p] + rng.integers(0, blocks.field_size[p])]
    topic[anywhere] = rng.choice(len(weights), size=int(anywhere.sum()), p=weights)
    return topic


def _vocabulary_words(rng, vocabulary: np.ndarray, count: int) -> np.ndarray:
    """``count`` words per work drawn from its topic's vocabulary rows (with repeats)."""
    return np.take_along_axis(vocabulary, rng.integers(0, VOCABULARY_SIZE, size=(len(vocabulary), count)), axis=1)


def _draw_keywords(rng, vocabulary: np.ndarray, has_topic: np.ndarray) -> np.ndarray:
    """Per work: 0..MAX_KEYWORDS distinct words of its topic's vocabulary (consecutive from a
    random start, wrapping), -1 padded; none without a topic."""
    n = len(vocabulary)
    count = np.where(has_topic, rng.choice(len(KEYWORD_COUNT_SHARES), size=n, p=KEYWORD_COUNT_SHARES), 0)
    start = rng.integers(0, VOCABULARY_SIZE, size=n)
    columns = (start[:, None] + np.arange(MAX_KEYWORDS)[None, :]) % VOCABULARY_SIZE
    words = np.take_along_axis(vocabulary, columns, axis=1)
    return np.where(np.arange(MAX_KEYWORDS)[None, :] < count[:, None], words, -1)


def _draw_funders(rng, domain_id: np.ndarray, work_of_affiliation: np.ndarray, affiliation_institution: np.ndarray):
    """Per work and funder (``funder_names()``): the Chinese funders by their shares, CAS for
    works with an author in the CAS lineage, a foreign funder for works of its domains with
    an author in its country."""
    n = len(domain_id)
    institutions = institution_records()
    funded = np.zeros((n, len(funder_names())), dtype=bool)
    for column, (_, share) in enumerate(CHINESE_FUNDERS):
        funded[:, column] = rng.random(n) < share

    # which works have an author at a CAS-lineage institution, or in each country: one count
    in_cas = np.array([len(r["lineage"]) > 1 or r["display_name"] == CAS_NAME for r in institutions])
    countries = sorted({r["country_code"] for r in institutions})
    group_of_institution = np.array([countries.index(r["country_code"]) for r in institutions])
    groups = len(countries) + 1  # the countries, then the CAS lineage
    cells = np.concatenate([
        work_of_affiliation * groups + group_of_institution[affiliation_institution],
        (work_of_affiliation * groups + len(countries))[in_cas[affiliation_institution]],
    ])
    works_with = np.bincount(cells, minlength=n * groups).reshape(n, groups) > 0
    funded[:, len(CHINESE_FUNDERS)] = works_with[:, -1] & (rng.random(n) < CAS_FUNDER[1])
    for offset, (_, code, domains) in enumerate(FOREIGN_FUNDERS):
        in_scope = works_with[:, countries.index(code)] & (True if domains is None else np.isin(domain_id, domains))
        funded[:, len(CHINESE_FUNDERS) + 1 + offset] = in_scope & (rng.random(n) < FOREIGN_FUNDER_SHARE)
    return funded


def _draw_citations(rng, field_id: np.ndarray, topic_growth: np.ndarray, year: np.ndarray, reference_year: int):
    """Citations (negative binomial around a field-and-age mean, raised in growing topics),
    their split by year (each work's own acceleration), fwci (citations over the field-year
    mean) and the percentile of that count among the field-year's works."""
    n = len(year)
    expected = _by_field(CITATIONS_PER_YEAR)[field_id] * (reference_year - year + 0.5) ** CITATION_AGE_EXPONENT
    shape = CITATION_DISPERSION
    in_topic = expected * np.exp(CITATION_GROWTH_COUPLING * topic_growth)
    citations = rng.poisson(in_topic * rng.gamma(shape, 1 / shape, size=n))
    fwci = np.round(citations / expected, 3)
    distribution = stats.nbinom(shape, shape / (shape + expected))
    percentile = np.round(distribution.cdf(citations - 1) + 0.5 * distribution.pmf(citations), 6)

    # column j holds the citations of year reference_year - j; later years weigh more
    width = int(reference_year - year.min() + 1)
    years_since = (reference_year - np.arange(width))[None, :] - year[:, None]
    acceleration = rng.uniform(*CITATION_ACCELERATION, size=n)[:, None]
    weights = np.where(years_since >= 0, (np.maximum(years_since, 0) + 1.0) ** acceleration, 0.0)
    weights[:, 0] *= 0.5  # the current year is under way
    counts = np.zeros((n, width), dtype=np.int64)
    remaining, weight_left = citations.copy(), weights.sum(axis=1)
    for column in range(width):
        share = np.divide(weights[:, column], weight_left, out=np.zeros(n), where=weight_left > 0)
        counts[:, column] = rng.binomial(remaining, np.clip(share, 0, 1))
        remaining -= counts[:, column]
        weight_left -= weights[:, column]
    return citations, counts, fwci, percentile


def _draw_authorships(rng, field_id: np.ndarray, kinds: np.ndarray, is_trap: dict):
    n = len(field_id)
    means = _by_field({f: AUTHORS_MEAN.get(f, DEFAULT_AUTHORS_MEAN) for f in FIELDS})[field_id]
    authors = np.clip(1 + rng.poisson(means - 1), 1, 30)
    two_beijing = is_trap["two_beijing_institutions"]
    authors[two_beijing] = np.maximum(authors[two_beijing], 2)
    author_offsets = np.concatenate([[0], np.cumsum(authors)])
    total = int(author_offsets[-1])
    work_of_author = np.repeat(np.arange(n), authors)

    by_kind = [np.flatnonzero(kinds == k) for k in range(len(INSTITUTION_KINDS))]
    beijing = by_kind[INSTITUTION_KINDS.index("beijing")]
    institution = np.empty(total, dtype=np.int64)
    kind = rng.choice(len(COAUTHOR_KIND_SHARES), size=total, p=COAUTHOR_KIND_SHARES)
    for k, members in enumerate(by_kind):
        institution[kind == k] = rng.choice(members, size=(kind == k).sum())

    beijing_slot = np.where(rng.random(n) < FIRST_AUTHOR_IS_BEIJING_SHARE, 0, rng.integers(0, authors))
    forced = author_offsets[:-1] + beijing_slot
    beijing_pick = rng.integers(0, len(beijing), size=n)
    institution[forced] = beijing[beijing_pick]
    other_pick = (beijing_pick + 1 + rng.integers(0, len(beijing) - 1, size=n)) % len(beijing)
    second_slot = author_offsets[:-1] + (beijing_slot + 1) % authors
    institution[second_slot[two_beijing]] = beijing[other_pick[two_beijing]]
    cas_only = is_trap["cas_outside_beijing"][work_of_author]
    cas_outside = by_kind[INSTITUTION_KINDS.index("cas_outside_beijing")]
    institution[cas_only] = rng.choice(cas_outside, size=cas_only.sum())

    keeps_institution = np.ones(total, dtype=bool)
    keeps_institution[rng.random(total) < NO_AFFILIATION_SHARE] = False
    keeps_institution[forced] = True
    keeps_institution[second_slot[two_beijing]] = True
    second = keeps_institution & ~cas_only & (rng.random(total) < SECOND_AFFILIATION_SHARE)
    second_institution = (institution + 1 + rng.integers(0, len(kinds) - 1, size=total)) % len(kinds)
    per_author = keeps_institution.astype(np.int64) + second
    affiliation_offsets = np.concatenate([[0], np.cumsum(per_author)])
    affiliation_institution = np.empty(int(affiliation_offsets[-1]), dtype=np.int64)
    affiliation_institution[affiliation_offsets[:-1][keeps_institution]] = institution[keeps_institution]
    affiliation_institution[affiliation_offsets[:-1][second] + 1] = second_institution[second]

    corresponding = np.zeros(total, dtype=bool)
    rule = rng.choice(len(CORRESPONDING_SHARES), size=n, p=CORRESPONDING_SHARES)
    corresponding[author_offsets[:-1][rule == 0]] = True
    corresponding[author_offsets[1:][rule == 1] - 1] = True
    author_name = rng.integers(0, len(GIVEN_NAMES) * len(FAMILY_NAMES), size=total)
    return author_offsets, author_name, corresponding, affiliation_offsets, affiliation_institution


def eligible(draws: WorkDraws) -> np.ndarray:
    """The harvest rules on the draw: a Beijing affiliation, a year in the window, article
    or review, a journal with an ISSN, neither retracted nor paratext."""
    specs = source_specs()
    journal_with_issn = np.array([s.type == "journal" and s.has_issn for s in specs] + [False])[draws.source]
    rejected_traps = [TRAP_KINDS.index(kind) for kind in ("retracted", "paratext")]
    return (
        _has_beijing_affiliation(draws)
        & (draws.year >= draws.from_year) & (draws.year <= draws.to_year)
        & (draws.type_index <= 1)
        & journal_with_issn
        & ~np.isin(draws.trap, rejected_traps)
    )


FIRST_AUTHOR_NUMBER = 9300000000
# An author is a name and a home institution (its first affiliation, or none): an id each.
NO_HOME_INSTITUTION = 99
AUTHOR_KEYS = len(GIVEN_NAMES) * len(FAMILY_NAMES) * 100


def author_keys(draws: WorkDraws) -> np.ndarray:
    """Per author: ``name * 100 + home institution`` (``NO_HOME_INSTITUTION`` without an
    affiliation), the index into ``author_identities``: the same person keeps one id."""
    has_affiliation = np.diff(draws.affiliation_offsets) > 0
    first = np.minimum(draws.affiliation_offsets[:-1], max(len(draws.affiliation_institution) - 1, 0))
    home = np.where(has_affiliation, draws.affiliation_institution[first] if len(first) else 0, NO_HOME_INSTITUTION)
    return draws.author_name.astype(np.int64) * 100 + home


@functools.lru_cache(maxsize=1)
def author_identities() -> tuple[pa.Array, pa.Array]:
    """Per author key: the short author id (``A<FIRST_AUTHOR_NUMBER + key>``) and the ORCID
    (``author_orcids``), computed once for every possible key."""
    numbers = FIRST_AUTHOR_NUMBER + np.arange(AUTHOR_KEYS)
    ids = pc.binary_join_element_wise("A", pc.cast(pa.array(numbers), pa.string()), "")
    return ids, author_orcids(numbers)


def author_orcids(numbers: np.ndarray) -> pa.Array:
    """Per author number: a well-formed ORCID (its check digit by ISO 7064 MOD 11-2) made of
    the number, or null for the numbers divisible by 3 (every third author has none)."""
    digits = (numbers[:, None] // 10 ** np.arange(14, -1, -1)) % 10
    total = np.zeros(len(numbers), dtype=np.int64)
    for column in range(digits.shape[1]):
        total = (total + digits[:, column]) * 2
    check = (12 - total % 11) % 11
    base = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), 15, "0")
    groups = [pc.utf8_slice_codeunits(base, start, start + 4) for start in (0, 4, 8, 12)]
    last = pc.binary_join_element_wise(groups[3], pa.array(np.array(list("0123456789X"))[check]), "")
    orcids = pc.binary_join_element_wise(groups[0], groups[1], groups[2], last, "-")
    return pc.if_else(pa.array(numbers % 3 != 0), orcids, pa.scalar(None, pa.string()))


def author_positions(draws: WorkDraws) -> np.ndarray:
    """Per author: 0 first, 1 middle, 2 last (a single author is first)."""
    authors = np.diff(draws.author_offsets)
    index = np.arange(int(draws.author_offsets[-1])) - np.repeat(draws.author_offsets[:-1], authors)
    last = index == np.repeat(authors, authors) - 1
    return np.where(index == 0, 0, np.where(last, 2, 1))


AUTHOR_POSITIONS = ("first", "middle", "last")


def beijing_flags() -> np.ndarray:
    """Per institution index: is it a Beijing institution?"""
    return np.array([institution_kind(r) == "beijing" for r in institution_records()])


def _has_beijing_affiliation(draws: WorkDraws) -> np.ndarray:
    n = len(draws.year)
    work_of_affiliation = np.repeat(np.repeat(np.arange(n), np.diff(draws.author_offsets)), np.diff(draws.affiliation_offsets))
    hits = np.bincount(work_of_affiliation, weights=beijing_flags()[draws.affiliation_institution], minlength=n)
    return hits > 0

