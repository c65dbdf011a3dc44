"""The synthetic snapshot generator: format, determinism, structure and learnability."""

from __future__ import annotations

import email.utils
import gzip
import json
import re
from collections import Counter

import pytest

from arxivcat.data.corpus import normalize_record
from arxivcat.data.jsonl import read_records
from arxivcat.synthetic.generate import generate_records, write_snapshot
from arxivcat.synthetic.snapshot_json import FIELDS, json_line
from arxivcat.taxonomy import CATEGORIES

REAL_SAMPLE = "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"
NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})$")
OLD_STYLE = re.compile(r"^[a-z-]+/(\d{2})(\d{2})\d{3}$")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate_records(4000, seed=11))


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    paths = [tmp_path / f"{name}.jsonl" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        assert write_snapshot(path, 300, seed=seed) == 300
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b
    assert a != c
    assert not list(tmp_path.glob("*.partial"))


def test_gzip_output_reads_back_as_the_same_records(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    write_snapshot(path, 200, seed=2, compress="gz")
    with gzip.open(path, "rb") as handle:
        assert handle.read(2) == b'{"'
    assert list(read_records(path)) == list(generate_records(200, seed=2))


def test_lines_are_compact_ascii_json_like_kaggle(records):
    for record in records[:500]:
        line = json_line(record)
        assert line == json.dumps(record, ensure_ascii=True, separators=(",", ":"))
        assert line.isascii()
    assert any("\\u00" in json_line(r) for r in records)  # accented names, escaped


def test_fields_equal_the_real_snapshots(records, shared):
    with open(shared / REAL_SAMPLE, encoding="utf-8") as handle:
        real = json.loads(handle.readline())
    assert list(real) == list(FIELDS)
    assert all(list(r) == list(real) for r in records)


def test_ids_have_the_right_style_for_their_date_and_are_unique(records):
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    styles = Counter()
    for record in records:
        created = email.utils.parsedate_to_datetime(record["versions"][0]["created"])
        new, old = NEW_STYLE.match(record["id"]), OLD_STYLE.match(record["id"])
        if (created.year, created.month) >= (2007, 4):
            assert new, record["id"]
            assert len(new.group(3)) == (5 if created.year >= 2015 else 4)
            match = new
            styles["new5" if created.year >= 2015 else "new4"] += 1
        else:
            assert old, record["id"]
            assert record["id"].split("/")[0] == record["categories"].split()[0].split(".")[0]
            match = old
            styles["old"] += 1
        assert (int(match.group(1)), int(match.group(2))) == (created.year % 100, created.month)
    assert min(styles.values()) > 50, styles


def test_categories_are_known_and_plausible(records):
    counts, carrying = Counter(), Counter()
    for record in records:
        listed = record["categories"].split()
        assert 1 <= len(listed) <= 6
        assert len(set(listed)) == len(listed)
        assert set(listed) <= CATEGORIES, listed
        counts[listed[0].split(".")[0]] += 1
        carrying.update(listed)
    n = len(records)
    physics = sum(v for k, v in counts.items() if k not in {"cs", "math", "stat", "eess", "econ"})
    physics -= counts["q-bio"] + counts["q-fin"]
    assert 0.38 < physics / n < 0.55
    assert 0.14 < counts["math"] / n < 0.26
    assert 0.22 < counts["cs"] / n < 0.38
    assert 0.05 <= carrying["cs.CV"] / n <= 0.09
    for category in ("cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "cs.CR", "cs.MA", "stat.ML"):
        assert carrying[category] > 0, category
    # Aliases appear next to their category, as in real data.
    assert any("math-ph math.MP" in r["categories"] for r in records)
    assert any("eess.SY cs.SY" in r["categories"] for r in records)


def test_versions_increase_and_update_date_follows(records):
    for record in records:
        versions = record["versions"]
        assert 1 <= len(versions) <= 4
        assert [v["version"] for v in versions] == [f"v{i}" for i in range(1, len(versions) + 1)]
        times = [email.utils.parsedate_to_datetime(v["created"]) for v in versions]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert record["update_date"] >= times[-1].date().isoformat()
        assert record["update_date"] <= "2025-12-31"


def test_text_looks_like_the_snapshot(records):
    for record in records[:500]:
        abstract = record["abstract"]
        assert abstract.startswith("  ") and abstract.endswith("\n")
        assert max(len(line) for line in abstract.splitlines()) <= 80
    assert any("\n  " in r["title"] for r in records)
    assert any("$\\mathcal{O}(n)$" in r["abstract"] for r in records)
    for field in ("doi", "journal-ref", "comments", "license", "report-no"):
        share = sum(r[field] is None for r in records) / len(records)
        assert 0.03 < share < 0.98, field


def test_every_record_normalizes_and_years_cover_the_range():
    years = Counter()
    for record in generate_records(3000, seed=4, start_year=2010, end_year=2020):
        row = normalize_record(record)
        assert row["primary_category"] in CATEGORIES
        years[row["year"]] += 1
    assert sorted(years) == list(range(2010, 2021))
    assert years[2020] > years[2010]  # submissions grow


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="n must be"):
        list(generate_records(-1))
    with pytest.raises(ValueError, match="start_year"):
        list(generate_records(5, start_year=2020, end_year=2010))
    with pytest.raises(ValueError, match="compress"):
        write_snapshot(tmp_path / "x.jsonl", 5, compress="zip")
    with pytest.raises(ValueError, match="id space"):
        list(generate_records(200_000, start_year=2005, end_year=2005))


def test_cs_cv_is_learnable_but_not_trivially(records):
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    texts = [f"{r['title']} {r['abstract']}" for r in records]
    labels = ["cs.CV" in r["categories"].split() for r in records]
    # Records come in date order: interleave so both parts span all years.
    train = [i for i in range(len(records)) if i % 4]
    test = [i for i in range(len(records)) if not i % 4]
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    x_train = vectorizer.fit_transform([texts[i] for i in train])
    model = LogisticRegression(C=10, class_weight="balanced", max_iter=2000)
    model.fit(x_train, [labels[i] for i in train])
    predicted = model.predict(vectorizer.transform([texts[i] for i in test]))
    f1 = f1_score([labels[i] for i in test], predicted)
    assert 0.6 < f1 < 0.99, f1
