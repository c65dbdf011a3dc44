"""The OpenAlex API source against a 127.0.0.1 server replaying real OpenAlex responses.

The server routes by query parameters: a sample's ``seed`` or a walk's ``cursor`` picks the
scripted replies for that request (real bodies from ../shared/data/openalex/api, plus the real
HTTP 400 bodies); each route's replies are consumed in order, the last one repeating.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from loopback_http import Route, serve

from arxivcat.config import schema_defaults
from arxivcat.negatives.openalex_api import OpenAlexError
from arxivcat.negatives.prepare_weak_negatives import WeakNegativeError, prepare_weak_negatives
from arxivcat.negatives.settings import WeakNegativeSettings

KEY = "test-key-not-secret"
CURSOR_STAR_NEXT = "IlsnLUluZmluaXR5JywgMCwgJ2h0dHBzOi8vb3BlbmFsZXgub3JnL1czMDQ1OTIxODkxJ10i"


class Replay:
    """Scripted replies by route, and the requests received."""

    def __init__(self, api: Path) -> None:
        self.api = api
        self.routes: dict[str, list[tuple[int, dict[str, str], str]]] = {}
        self.requests: list[dict[str, str]] = []

    def body(self, name: str) -> bytes:
        return (self.api / name).read_bytes()

    def reply(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(params)
        if params.get("api_key") != KEY:
            return 403, {}, b'{"error": "Forbidden", "message": "API key required"}'
        if "DOESNTEXIST" in params.get("filter", ""):
            return 400, {}, self.body("errors/http400_invalid_filter_field.json")
        route = f"seed={params['seed']}" if "seed" in params else f"cursor={params.get('cursor')}"
        script = self.routes.get(route)
        if not script:
            return 404, {}, b'{"error": "Not found", "message": "no such route"}'
        status, headers, name = script.pop(0) if len(script) > 1 else script[0]
        return status, headers, self.body(name) if name.endswith(".json") else name.encode()


@pytest.fixture()
def server(shared):
    replay = Replay(shared / "data" / "openalex" / "api" / "rkrug_openalexPro")

    def works(query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = replay.reply({key: values[0] for key, values in query.items()})
        return status, {"Content-Type": "application/json", **headers}, body

    with serve({"/works": Route(responder=works)}) as loopback:
        replay.base_url = loopback.base
        yield replay


@pytest.fixture()
def api_key(monkeypatch):
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)


def _run(
    tmp_path: Path,
    replay: Replay,
    sleeps: list | None = None,
    min_year: int = 2010,
    max_pages: int | None = None,
    **api,
) -> dict:
    out = tmp_path / "out"
    defaults = schema_defaults("weak_negatives")
    settings = {
        "source": "openalex",
        "min_year": min_year,
        "openalex": {
            **defaults["openalex"],
            "base_url": replay.base_url,
            "seed": 1,
            "max_attempts": 3,
            **api,
        },
    }
    return prepare_weak_negatives(
        settings=WeakNegativeSettings.from_dict(settings),
        table_path=out / "weak_negatives.parquet",
        digest_path=out / "weak_negatives.sha256",
        cache_dir=tmp_path / "cache",
        manifest_path=out / "weak_negatives.manifest.json",
        sleep=(sleeps if sleeps is not None else []).append,
        max_pages=max_pages,
    )


def _ids(tmp_path: Path) -> list[str]:
    return pq.read_table(tmp_path / "out" / "weak_negatives.parquet").column("id").to_pylist()


def _no_outputs(tmp_path: Path) -> bool:
    out = tmp_path / "out"
    return not out.exists() or not any(p.name.startswith("weak_negatives") for p in out.iterdir())


MOSQUITO = "json_files_page_1_mosquito_vectors.json"
BIODIVERSITY = "biodiversity_AND_finance_to2010_cursor_page1.json"
FINAL_PAGE = "json_files_page_2_count259_final_page.json"


def test_seeded_samples_until_count_with_429_and_500_retried(tmp_path, server, api_key, caplog):
    server.routes = {
        "seed=1": [(429, {"Retry-After": "7"}, "rate limited"), (200, {}, MOSQUITO)],
        "seed=2": [(500, {}, "oops"), (200, {}, FINAL_PAGE)],
        "seed=3": [(200, {}, BIODIVERSITY)],
    }
    sleeps: list[float] = []
    manifest = _run(tmp_path, server, sleeps, count=140, per_page=200)
    ids = _ids(tmp_path)
    assert len(ids) == 140 == manifest["records"] and len(set(ids)) == 140
    assert sleeps == [7.0, 1.0]  # Retry-After honoured; then the first backoff step
    samples = [r for r in server.requests if r.get("api_key") == KEY]
    assert [r["seed"] for r in samples] == ["1", "1", "2", "2"]
    assert all(r["sample"] == "200" and "cursor" not in r for r in samples)
    assert samples[0]["filter"].startswith("concepts.id:C142362112|C86803240|")
    assert "publication_year:>2009" in samples[0]["filter"]
    assert not manifest["exhausted"] and manifest["stopped"] == "count reached"
    assert manifest["seeds"] == [1, 2] and manifest["requests"] == 4
    # The duplicate W3108703640 of the final page is kept once; CS works are dropped.
    assert ids.count("W3108703640") == 1
    assert manifest["dropped"]["computer science"] > 0
    # W2145528020 (2015) has gaps in its inverted-index positions: every word is kept, in order.
    table = pq.read_table(tmp_path / "out" / "weak_negatives.parquet").to_pylist()
    gappy = next(row for row in table if row["id"] == "W2145528020")
    assert len(gappy["abstract"].split()) >= 455
    # The key never reaches the log, the manifest or the cache.
    assert "retrying" in caplog.text and KEY not in caplog.text
    assert KEY not in json.dumps(manifest)
    assert not any(KEY in p.read_text() for p in (tmp_path / "cache").rglob("*.json"))


def test_samples_are_repeatable(tmp_path, server, api_key):
    server.routes = {"seed=1": [(200, {}, FINAL_PAGE)], "seed=2": [(200, {}, MOSQUITO)]}
    _run(tmp_path / "a", server, count=100)
    _run(tmp_path / "b", server, count=100)
    a = pq.read_table(tmp_path / "a" / "out" / "weak_negatives.parquet")
    b = pq.read_table(tmp_path / "b" / "out" / "weak_negatives.parquet")
    assert a.equals(b) and a.num_rows == 100


def test_exhausted_population_stops_and_says_so(tmp_path, server, api_key):
    # Every seed returns the same 59 works: no new works after the first sample.
    server.routes = {f"seed={i}": [(200, {}, FINAL_PAGE)] for i in range(1, 20)}
    manifest = _run(tmp_path, server, count=1000)
    assert len(server.requests) == 6  # one useful sample, then five without new works
    assert manifest["exhausted"] and manifest["requested"] == 1000
    assert manifest["records"] == len(_ids(tmp_path)) < 59


def test_page_budget_spent_is_an_error(tmp_path, server, api_key):
    # Every sample brings new works, but the filters keep none of them (min_year 2100).
    names = [BIODIVERSITY, MOSQUITO, FINAL_PAGE]
    server.routes = {f"seed={i}": [(200, {}, name)] for i, name in enumerate(names, start=1)}
    with pytest.raises(WeakNegativeError, match=r"only 0 of 100 works kept after 3 pages"):
        _run(tmp_path, server, count=100, min_year=2100, max_pages=3)
    assert len(server.requests) == 3
    assert _no_outputs(tmp_path)


def test_cursor_walk_follows_next_cursor_and_stops_on_empty_results(tmp_path, server, api_key):
    bio = json.loads((server.api / BIODIVERSITY).read_text())
    final = json.loads((server.api / FINAL_PAGE).read_text())
    server.routes = {
        "cursor=*": [(200, {}, BIODIVERSITY)],
        f"cursor={bio['meta']['next_cursor']}": [(200, {}, FINAL_PAGE)],
        # The last non-empty page still carries a next_cursor; the reply to it is empty.
        f"cursor={final['meta']['next_cursor']}": [
            (200, {}, "cursor_chain/page2_terminal_empty.json")
        ],
    }
    manifest = _run(tmp_path, server, mode="cursor", count=10_000)
    assert [r["cursor"] for r in server.requests] == [
        "*",
        bio["meta"]["next_cursor"],
        final["meta"]["next_cursor"],
    ]
    assert manifest["stopped"] == "source exhausted" and manifest["pages"] == 3
    assert manifest["cost_usd"] == pytest.approx(0.0001)  # meta.cost_usd of the 2026 page
    ids = _ids(tmp_path)
    assert len(ids) == len(set(ids)) and "W3108703640" in ids
    table = pq.read_table(tmp_path / "out" / "weak_negatives.parquet")
    assert min(table.column("year").to_pylist()) >= 2010


def test_real_cursor_chain_of_cs_works_ends_in_a_clear_error(tmp_path, server, api_key):
    server.routes = {
        "cursor=*": [(200, {}, "cursor_chain/page1_cursor_star.json")],
        f"cursor={CURSOR_STAR_NEXT}": [(200, {}, "cursor_chain/page2_terminal_empty.json")],
    }
    with pytest.raises(WeakNegativeError, match="no usable weak negatives"):
        _run(tmp_path, server, mode="cursor")
    assert len(server.requests) == 2
    assert _no_outputs(tmp_path)


def test_http_400_quotes_openalex_message(tmp_path, server, api_key):
    with pytest.raises(OpenAlexError, match=r"HTTP 400.*DOESNTEXIST is not a valid field") as info:
        # The server answers any filter naming DOESNTEXIST with the real HTTP 400 body.
        _run(tmp_path, server, concepts=["DOESNTEXIST"])
    assert KEY not in str(info.value)
    assert _no_outputs(tmp_path)


def test_retries_are_bounded(tmp_path, server, api_key):
    server.routes = {"seed=1": [(503, {}, "unavailable")]}
    sleeps: list[float] = []
    with pytest.raises(OpenAlexError, match=r"giving up after 3 attempts \(HTTP 503") as info:
        _run(tmp_path, server, sleeps)
    assert sleeps == [1.0, 2.0] and len(server.requests) == 3
    assert KEY not in str(info.value)
    assert _no_outputs(tmp_path)


def test_truncated_body_and_refused_connection_are_retried(tmp_path, server, api_key):
    truncated = (server.api / FINAL_PAGE).read_text()[:5000]
    server.routes = {"seed=1": [(200, {}, truncated), (200, {}, FINAL_PAGE)]}
    sleeps: list[float] = []
    manifest = _run(tmp_path, server, sleeps, count=50)
    assert sleeps == [1.0] and manifest["records"] == 50
    with pytest.raises(
        OpenAlexError, match=r"giving up after 3 attempts \(ConnectionError"
    ) as info:
        _run(tmp_path / "refused", server, base_url="http://127.0.0.1:9")
    assert KEY not in str(info.value)


def test_missing_api_key_is_a_clear_error(tmp_path, server, monkeypatch):
    monkeypatch.delenv("OPENALEX_API_KEY", raising=False)
    with pytest.raises(OpenAlexError, match="OPENALEX_API_KEY is not set"):
        _run(tmp_path, server)
    assert server.requests == []


def test_interrupted_walk_resumes_from_cached_pages(tmp_path, server, api_key):
    bio = json.loads((server.api / BIODIVERSITY).read_text())
    final = json.loads((server.api / FINAL_PAGE).read_text())
    server.routes = {
        "cursor=*": [(200, {}, BIODIVERSITY)],
        f"cursor={bio['meta']['next_cursor']}": [(500, {}, "down")],
    }
    with pytest.raises(OpenAlexError):
        _run(tmp_path, server, mode="cursor")
    assert _no_outputs(tmp_path)
    server.requests.clear()
    server.routes[f"cursor={bio['meta']['next_cursor']}"] = [(200, {}, FINAL_PAGE)]
    server.routes[f"cursor={final['meta']['next_cursor']}"] = [
        (200, {}, "cursor_chain/page2_terminal_empty.json")
    ]
    manifest = _run(tmp_path, server, mode="cursor")
    # Page 1 comes from the cache: the walk goes on from its persisted next_cursor.
    assert [r["cursor"] for r in server.requests] == [
        bio["meta"]["next_cursor"],
        final["meta"]["next_cursor"],
    ]
    assert manifest["pages"] == 3 and manifest["records"] > 0


def test_wrong_key_and_long_retry_after_fail_at_once(tmp_path, server, monkeypatch):
    monkeypatch.setenv("OPENALEX_API_KEY", "wrong")
    with pytest.raises(OpenAlexError, match=r"\(check OPENALEX_API_KEY\): HTTP 403"):
        _run(tmp_path, server)
    assert len(server.requests) == 1
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    server.routes = {"seed=1": [(429, {"Retry-After": "3600"}, "daily limit")]}
    sleeps: list[float] = []
    with pytest.raises(
        OpenAlexError,
        match=r"refuses for 3600 s \(HTTP 429 .*daily limit\).*openalex\.max_retry_wait",
    ):
        _run(tmp_path, server, sleeps)
    assert sleeps == [] and _no_outputs(tmp_path)
