"""Synthetic arXiv metadata in the exact format of arXiv's JSON-lines snapshot.

The records are made up: they feed the offline demo (whose card must say so) and scale benchmarks
of the later stages.  They mimic the real snapshot's structure: the 14 fields, old-style ids
(``math/0601001``) before April 2007 and new-style ids after it (four digits before 2015, five
from 2015), ids that grow with the submission time within a month, a primary category plus up to
three cross-lists from plausible neighbours, category aliases listed twice as arXiv does
(``math-ph math.MP``), submissions growing over the years, one to four versions with RFC 2822
dates, abstracts with LaTeX wrapped at 80 columns behind two spaces, and some null fields.

Each category has its own topic words, mixed with its family's words, generic filler and words of
neighbouring categories that a paper does not list, so a bag-of-words classifier learns a
category well but not perfectly.  Generation is deterministic for a seed and streams: memory stays
flat for any number of records.
"""

from __future__ import annotations

import bisect
import calendar
import gzip
import logging
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arxivcat.io.atomic import atomic_path
from arxivcat.synthetic import metadata_vocabulary as meta
from arxivcat.synthetic import vocabulary as vocab
from arxivcat.synthetic.material import (
    FIRST_NEW_STYLE,
    MAX_SLOTS,
    POOL_SIZE,
    categories,
    interpolated_weights,
    month_plan,
    pools,
    rfc2822,
    sentences,
    since,
    titles,
    words,
    wrap,
)
from arxivcat.synthetic.snapshot_json import json_line

log = logging.getLogger(__name__)

_STRENGTH_CUM = (0.30, 0.65, 0.85, 1.0)
_PEOPLE = 4096  # size of a generator's list of people that author teams are sliced from


class _Generator:
    """Draws records one month at a time; all state lives in one seeded ``random.Random``.

    The per-record work is kept small (this runs a million times): word runs are sliced from
    precomputed pools, authors from a seeded list of people, and several small numbers come from
    the bits of one random integer.
    """

    def __init__(self, seed: int, end_year: int) -> None:
        self.rng = random.Random(seed)
        self.table = categories()
        self.pools = pools()
        self.sentences = sentences()
        self.titles = titles()
        self.snapshot_end = calendar.timegm((end_year, 12, 31, 23, 59, 59))
        first = words(meta.FIRST_NAMES)
        initials = words(meta.INITIALS)
        people = []
        for _ in range(_PEOPLE):
            if self.rng.random() < 0.35:
                given = " ".join(self.rng.choices(initials, k=1 + (self.rng.random() < 0.3)))
            else:
                given = self.rng.choice(first)
            latex, plain = self.rng.choice(meta.LAST_NAMES)
            people.append((f"{given} {latex}", [plain, given, ""]))
        self.people_pool = tuple(people)

    def categories(self, primary: str, year: int) -> tuple[list[str], list[str]]:
        """The listed categories and those drawn (whose words the text uses).

        Primary first, then 0-3 distinct neighbours open in ``year``; an alias is listed next to
        its category as arXiv does, and astro-ph has no subcategories before 2009.
        """
        rng = self.rng
        u = rng.random()
        wanted = 0 if u < 0.55 else 1 if u < 0.85 else 2 if u < 0.96 else 3
        chosen = [primary]
        neighbours = self.table[primary].neighbours
        for _ in range(wanted):
            # Earlier neighbours are likelier: the minimum of two uniforms skews low.
            pick = neighbours[int(min(rng.random(), rng.random()) * len(neighbours))]
            if pick not in chosen and since(pick) <= year:
                chosen.append(pick)
        if len(chosen) == 1 and primary not in vocab.ALIAS_PAIRS and year >= 2009:
            return chosen, chosen
        listed = []
        for category in chosen:
            if category.startswith("astro-ph.") and year < 2009:
                category = "astro-ph"
            if category not in listed:
                listed.append(category)
            alias = vocab.ALIAS_PAIRS.get(category)
            if alias and year >= alias[1] and alias[0] not in listed:
                # arXiv lists eess.SY before its alias cs.SY, and the others after.
                if category == "cs.SY":
                    listed.insert(listed.index(category), alias[0])
                else:
                    listed.append(alias[0])
        return listed, [c for c in chosen if c in self.table]

    def text(self, drawn: list[str]) -> tuple[str, str]:
        """Title and abstract: each sentence draws its words from one listed category's pool."""
        random_ = self.rng.random
        pools = self.pools
        own = pools[drawn[0], bisect.bisect_right(_STRENGTH_CUM, random_())]
        others = [pools[c, 1] for c in drawn[1:]]
        span = POOL_SIZE - MAX_SLOTS
        skeleton, slots = self.titles[int(random_() * len(self.titles))]
        start = int(random_() * span)
        title = skeleton % own[start : start + slots]
        title = title[0].upper() + title[1:]
        if random_() < 0.4 and "$" not in title and "/" not in title:
            title = title.title()  # Title Case, as many authors write it
        if len(title) > 72:
            title = wrap(title, 72).replace("\n", "\n  ")
        parts = ["  "]
        sentences = self.sentences
        n_sentences = len(sentences)
        for _ in range(4 + int(random_() * 5)):
            pool = others[int(random_() * len(others))] if others and random_() < 0.4 else own
            skeleton, slots = sentences[int(random_() * n_sentences)]
            start = int(random_() * span)
            parts.append(skeleton % pool[start : start + slots])
        return title, wrap(" ".join(parts)[1:], 80) + "\n"

    def people(self) -> tuple[str, str, list[list[str]]]:
        """Submitter, the ``authors`` string and ``authors_parsed``."""
        random_ = self.rng.random
        u = random_()
        count = 1 if u < 0.2 else 2 if u < 0.45 else 3 if u < 0.65 else 4 + int(random_() * 5)
        start = int(random_() * (_PEOPLE - count))
        team = self.people_pool[start : start + count]
        names = [name for name, _ in team]
        authors = names[0] if count == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        first = team[0][1]
        return f"{first[1]} {first[0]}", authors, [parsed for _, parsed in team]

    def versions(self, submitted: int) -> tuple[list[dict[str, str]], str]:
        """1-4 versions with increasing dates, and an update date on or after the last."""
        random_ = self.rng.random
        u = random_()
        count = 1 if u < 0.6 else 2 if u < 0.87 else 3 if u < 0.96 else 4
        stamps = [submitted]
        for _ in range(count - 1):
            later = stamps[-1] + 3600 + int(-math.log(1.0 - random_()) * 90 * 86400)
            if later > self.snapshot_end:
                break
            stamps.append(later)
        versions = [{"version": f"v{i}", "created": rfc2822(s)} for i, s in enumerate(stamps, 1)]
        room = min(self.snapshot_end - stamps[-1], 3 * 365 * 86400)
        updated = time.gmtime(stamps[-1] + int(random_() * random_() * room))
        return versions, f"{updated.tm_year:04d}-{updated.tm_mon:02d}-{updated.tm_mday:02d}"

    def publication(self, family: str, year: int, primary: str) -> tuple[Any, Any, Any, Any]:
        """comments, journal-ref, doi and report-no, each possibly null."""
        random_ = self.rng.random
        u = random_()
        published = u < (0.5 if year < 2020 else 0.27)
        report = random_() < (0.3 if primary.startswith("hep-") else 0.03)
        if u > 0.9 and not report:
            return None, None, None, None
        bits = self.rng.getrandbits(64)
        page = 1 + bits % 40
        numbers = {
            "p": page,
            "q": page + 5 + (bits >> 6) % 20,
            "f": 1 + (bits >> 11) % 15,
            "t": 1 + (bits >> 15) % 6,
            "v": 10 + (bits >> 18) % 90,
            "m": 1 + (bits >> 25) % 12,
            "n": (bits >> 29) % 999_999,
            "s": (bits >> 49) % 99_999,
            "y": min(year + (bits >> 63), 2099),
        }
        comments = meta.COMMENTS[numbers["f"] % len(meta.COMMENTS)] % numbers
        journal = doi = None
        if published:
            venues = meta.PUBLICATIONS[family]
            journal_form, doi_form = venues[numbers["n"] % len(venues)]
            v = random_()
            if v < 0.75:
                journal = journal_form % numbers
            if v > 0.12:
                doi = doi_form % numbers
        if report:
            report = meta.REPORT_NUMBERS[numbers["s"] % len(meta.REPORT_NUMBERS)] % numbers
        else:
            report = None
        return comments, journal, doi, report

    def license(self, year: int) -> str | None:
        """None for most old papers; CC licenses only after they existed."""
        u = self.rng.random()
        null_share = 0.93 if year < 2008 else 0.4 if year < 2016 else 0.03
        if u < null_share:
            return None
        choices = meta.LICENSES_OLD if year < 2014 else meta.LICENSES_NEW
        return choices[int((u - null_share) / (1 - null_share) * len(choices))]

    def month(self, year: int, month: int, count: int) -> Iterator[dict[str, Any]]:
        """The ``count`` records first submitted in ``year``-``month``, in id order."""
        random_ = self.rng.random
        names, cumulative = interpolated_weights(year)
        total = cumulative[-1]
        families = {name: self.table[name].family for name in names}
        start = calendar.timegm((year, month, 1, 0, 0, 0))
        span = calendar.monthrange(year, month)[1] * 86400
        stamps = sorted([start + int(random_() * span) for _ in range(count)])
        old_style = (year, month) < FIRST_NEW_STYLE
        yymm = f"{year % 100:02d}{month:02d}"
        number_format = "{}.{:04d}" if year < 2015 else "{}.{:05d}"
        used: dict[str, int] = {}
        for number, submitted in enumerate(stamps, start=1):
            primary = names[bisect.bisect_right(cumulative, random_() * total)]
            if old_style:
                archive = primary.split(".")[0]
                while used.get(archive, 0) >= 999:  # rare, and ends: see month_plan
                    primary = names[bisect.bisect_right(cumulative, random_() * total)]
                    archive = primary.split(".")[0]
                used[archive] = used.get(archive, 0) + 1
                paper_id = f"{archive}/{yymm}{used[archive]:03d}"
            else:
                paper_id = number_format.format(yymm, number)
            listed, drawn = self.categories(primary, year)
            title, abstract = self.text(drawn)
            submitter, authors, parsed = self.people()
            versions, update_date = self.versions(submitted)
            comments, journal, doi, report = self.publication(families[primary], year, primary)
            yield {
                "id": paper_id,
                "submitter": submitter,
                "authors": authors,
                "title": title,
                "comments": comments,
                "journal-ref": journal,
                "doi": doi,
                "report-no": report,
                "categories": " ".join(listed),
                "license": self.license(year),
                "abstract": abstract,
                "versions": versions,
                "update_date": update_date,
                "authors_parsed": parsed,
            }


def generate_records(
    n: int, seed: int = 0, start_year: int = 2005, end_year: int = 2025
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic arXiv snapshot records, in id order within each month.

    Args:
        n: Number of records.
        seed: Seed of the generator; the same seed gives the same records.
        start_year: First submission year (1992 or later: old-style ids hold two-digit years).
        end_year: Last submission year (at most 2099); no date lies after its 31 December.

    Raises:
        ValueError: For a negative ``n``, years out of range, or more records than arXiv's id
            scheme can number in those years.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 1992 <= start_year <= end_year <= 2099:
        raise ValueError(
            f"need 1992 <= start_year <= end_year <= 2099, got {start_year}..{end_year}"
        )
    plan = month_plan(n, start_year, end_year)
    generator = _Generator(seed, end_year)
    for year, month, count in plan:
        if count:
            yield from generator.month(year, month, count)


def write_snapshot(
    path: str | Path,
    n: int,
    seed: int = 0,
    compress: str | None = None,
    start_year: int = 2005,
    end_year: int = 2025,
) -> int:
    """Write ``n`` synthetic records as a JSON-lines snapshot; return the number written.

    Lines are compact and ASCII-escaped like Kaggle's file.  The file appears under ``path`` only
    once complete.

    Args:
        path: Output file.
        n: Number of records.
        seed: Generator seed.
        compress: None for plain text, ``"gz"`` for gzip.
        start_year: First submission year.
        end_year: Last submission year.

    Raises:
        ValueError: For an unknown ``compress`` or bad generation arguments.
    """
    if compress not in (None, "gz"):
        raise ValueError(f"compress must be None or 'gz', got {compress!r}")
    encode = json_line
    count = 0
    with (
        atomic_path(path) as partial,
        gzip.open(partial, "wb", compresslevel=6) if compress else open(partial, "wb") as handle,
    ):
        batch: list[str] = []
        for record in generate_records(n, seed, start_year, end_year):
            batch.append(encode(record))
            if len(batch) == 10_000:
                count += len(batch)
                handle.write(("\n".join(batch) + "\n").encode("ascii"))
                batch.clear()
                if count % 200_000 == 0:
                    log.info("%s: %d of %d synthetic records written", path, count, n)
        if batch:
            count += len(batch)
            handle.write(("\n".join(batch) + "\n").encode("ascii"))
    return count
