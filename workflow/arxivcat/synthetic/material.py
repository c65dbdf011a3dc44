"""What :mod:`arxivcat.synthetic.generate` draws from: categories, word pools, sentences, dates.

Built once per process from :mod:`arxivcat.synthetic.vocabulary` (and cached): each category's
weights and neighbours, the per-category pools of topic phrases, sentence and title skeletons, the
month-by-month submission plan, RFC 2822 dates and 80-column wrapping.  The generator draws
records from these; the pools are mixed with fixed seeds of their own.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from arxivcat.synthetic import vocabulary as vocab
from arxivcat.taxonomy import CATEGORIES

_GROWTH = 1.095  # yearly growth of submissions, about arXiv's over 2005-2025
_OLD_STYLE_MONTH_CAPACITY = 2997  # three archives' worth of 3-digit numbers: keeps each under 999
FIRST_NEW_STYLE = (2007, 4)
_KEEP_HYPHEN = frozenset(
    [
        "super-resolution",
        "multi-agent",
        "decision-making",
        "side-channel",
        "key-exchange",
        "rate-distortion",
        "polynomial-time",
        "np-hard",
        "lower-bound",
        "open-source",
        "fault-tolerance",
        "closed-loop",
        "model-predictive",
        "click-through",
        "navier-stokes",
        "fine-tuning",
        "c*-algebra",
        "von-neumann",
        "bose-einstein",
        "non-equilibrium",
        "x-ray",
        "gamma-ray",
        "heavy-ion",
        "lax-pair",
        "ads/cft",
        "l-functions",
        "three-manifolds",
        "finitely-generated",
        "lyapunov-exponent",
    ]
)
_WORD = re.compile(r"\$[^$]*\$|\S+")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Share of a sentence's words drawn from the paper's own topic words, by per-paper strength, and
# the share drawn from neighbouring categories the paper does not list (the confusers).
_STRENGTHS = ((0.55, 0.05), (0.42, 0.08), (0.30, 0.12), (0.16, 0.16))
POOL_SIZE = 2048
MAX_SLOTS = 8  # most %s slots in a skeleton


@dataclass(frozen=True)
class _Category:
    name: str
    weights: tuple[float, float]
    family: str
    neighbours: tuple[str, ...]
    topic: tuple[str, ...]


def _phrase(word: str) -> str:
    return word if word in _KEEP_HYPHEN else word.replace("-", " ")


def words(text: str) -> tuple[str, ...]:
    """Split a word list at spaces, keeping each ``$...$`` formula whole."""
    return tuple(_WORD.findall(text))


@lru_cache(maxsize=1)
def categories() -> dict[str, _Category]:
    """Parse :data:`vocab.CATEGORY_TABLE`, checking every name against the taxonomy."""
    table: dict[str, _Category] = {}
    for line in vocab.CATEGORY_TABLE.strip().splitlines():
        name, weights, family, neighbours, topic = (part.strip() for part in line.split("|"))
        w2005, w2025 = (float(w) for w in weights.split())
        table[name] = _Category(
            name, (w2005, w2025), family, tuple(neighbours.split()), tuple(topic.split())
        )
    names = set(table) | {n for c in table.values() for n in c.neighbours}
    names |= {alias for alias, _ in vocab.ALIAS_PAIRS.values()} | {"astro-ph"}
    unknown = sorted(names - CATEGORIES)
    if unknown:
        raise ValueError(f"synthetic vocabulary names unknown categories: {unknown}")
    return table


def since(category: str) -> int:
    """The first year a category's family takes submissions."""
    for prefix, year in vocab.SINCE.items():
        if category.startswith(prefix):
            return year
    return 0


@lru_cache(maxsize=1)
def pools() -> dict[tuple[str, int], tuple[str, ...]]:
    """Word pools per (category, strength): fixed shuffled mixtures, independent of the seed.

    A sentence takes a run of consecutive words from a random offset of a pool, which is as good
    as independent draws and much cheaper.
    """
    table = categories()
    generic = words(vocab.GENERIC_NOUNS)
    family_words = {f: tuple(map(_phrase, words(ws))) for f, ws in vocab.FAMILY_WORDS.items()}
    mixer = random.Random(20240501)
    pools: dict[tuple[str, int], tuple[str, ...]] = {}
    for name, category in table.items():
        topic = tuple(_phrase(w) for w in category.topic)
        leak = (
            tuple(_phrase(w) for n in category.neighbours if n in table for w in table[n].topic)
            or topic
        )
        family = family_words[category.family]
        for strength, (own, confuse) in enumerate(_STRENGTHS):
            counts = [round(POOL_SIZE * share) for share in (own, confuse, 0.22)]
            pool = (
                mixer.choices(topic, k=counts[0])
                + mixer.choices(leak, k=counts[1])
                + mixer.choices(family, k=counts[2])
                + mixer.choices(generic, k=POOL_SIZE - sum(counts))
            )
            mixer.shuffle(pool)
            pools[name, strength] = tuple(pool)
    return pools


def _expand(skeletons: tuple[str, ...], copies: int) -> tuple[tuple[str, int], ...]:
    """Fill the {A}/{V}/{O} slots of skeletons with fixed random words; count the %s slots."""
    adjectives, verbs, outcomes = (
        s.split() for s in (vocab.ADJECTIVES, vocab.VERBS, vocab.OUTCOMES)
    )
    filler = random.Random(7)
    expanded = []
    for skeleton in skeletons:
        for _ in range(copies):
            text = skeleton.format(
                A=filler.choice(adjectives), V=filler.choice(verbs), O=filler.choice(outcomes)
            )
            if text[0].islower():
                text = text[0].upper() + text[1:]
            slots = text.count("%s")
            if slots > MAX_SLOTS:
                raise ValueError(f"skeleton {skeleton!r} has more than {MAX_SLOTS} slots")
            expanded.append((text, slots))
    return tuple(expanded)


@lru_cache(maxsize=1)
def sentences() -> tuple[tuple[str, int], ...]:
    """Abstract sentence skeletons with their ``%s`` slot counts."""
    return _expand(vocab.SENTENCE_SKELETONS, 12)


@lru_cache(maxsize=1)
def titles() -> tuple[tuple[str, int], ...]:
    """Title skeletons with their ``%s`` slot counts."""
    return _expand(vocab.TITLE_SKELETONS, 8)


def interpolated_weights(year: int) -> tuple[list[str], list[float]]:
    """Primary categories open in ``year`` and their cumulative weights."""
    t = min(max((year - 2005) / 20, 0.0), 1.0)
    names, cumulative, total = [], [], 0.0
    for name, category in categories().items():
        if since(name) > year:
            continue
        w2005, w2025 = category.weights
        weight = w2005 + t * (w2025 - w2005)
        if weight <= 0:
            continue
        total += weight
        names.append(name)
        cumulative.append(total)
    return names, cumulative


def month_plan(n: int, start_year: int, end_year: int) -> list[tuple[int, int, int]]:
    """Split ``n`` records over the months, growing yearly; return (year, month, count).

    A month whose id space is full (999 per old-style archive, 9,999 new-style ids a month
    before 2015, 99,999 from 2015) passes its excess to the next month.
    """
    months = [(y, m) for y in range(start_year, end_year + 1) for m in range(1, 13)]
    weights = [_GROWTH ** (y - start_year) for y, _ in months]
    total = sum(weights)
    plan, carry, cumulative, assigned = [], 0, 0.0, 0
    for (year, month), weight in zip(months, weights, strict=True):
        cumulative += weight
        target = round(n * cumulative / total)
        count, assigned = target - assigned + carry, target
        if (year, month) < FIRST_NEW_STYLE:
            capacity = _OLD_STYLE_MONTH_CAPACITY
        else:
            capacity = 9_999 if year < 2015 else 99_999
        carry = max(count - capacity, 0)
        plan.append((year, month, count - carry))
    if carry:
        raise ValueError(
            f"{n} records do not fit arXiv's id space for {start_year}-{end_year}; "
            "use fewer records or more years"
        )
    return plan


def rfc2822(timestamp: int) -> str:
    """An RFC 2822 date in UTC, as the snapshot's version dates are written."""
    tm = time.gmtime(timestamp)
    return (
        f"{_WEEKDAYS[tm.tm_wday]}, {tm.tm_mday} {_MONTHS[tm.tm_mon]} {tm.tm_year} "
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} GMT"
    )


def wrap(text: str, width: int) -> str:
    """Break ``text`` at spaces into lines of at most ``width`` characters.

    One regular-expression pass (the generator's words are all shorter than a line).
    """
    pattern = _WRAPPERS.get(width)
    if pattern is None:
        pattern = _WRAPPERS[width] = re.compile(rf"(.{{1,{width}}})(?: +|$)")
    return "\n".join(pattern.findall(text))


_WRAPPERS: dict[int, re.Pattern[str]] = {}
