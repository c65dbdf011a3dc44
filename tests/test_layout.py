"""The results layout is stated once, in arxivcat.layout, which rules, CLI and tests read."""

from __future__ import annotations

import re
from pathlib import Path

from arxivcat import layout

REPO = Path(__file__).resolve().parents[1]
PATTERNS = {name: value for name, value in vars(layout).items() if name.isupper()}


def test_every_pattern_lies_under_the_results_folder():
    assert PATTERNS.pop("RESULTS") == "results"
    for name, pattern in PATTERNS.items():
        assert pattern.startswith(f"{layout.RESULTS}/"), name
    assert len(set(PATTERNS.values())) == len(PATTERNS), "two names for one path"


def test_logs_and_benchmarks_have_one_file_per_job():
    assert layout.log("download_snapshot") == "results/logs/download_snapshot.log"
    assert layout.log("train", "{experiment}") == "results/logs/train/{experiment}.log"
    assert (
        layout.benchmark("predict", "{corpus}", "{experiment}")
        == "results/benchmarks/predict/{corpus}/{experiment}.tsv"
    )


def test_under_reads_a_results_folder_that_lies_elsewhere(tmp_path):
    path = layout.under(tmp_path / "old-run", layout.EVAL_METRICS, experiment="cv-32")
    assert path == tmp_path / "old-run" / "cv-32" / "eval" / "metrics.json"


def test_no_rule_writes_a_results_path_of_its_own():
    """Rules name outputs through the layout and inputs through their producer's output."""
    files = [REPO / "workflow" / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    literal = re.compile(r"""["']results/""")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line.split("#", 1)[0])
    ]
    assert found == []


def test_an_encoder_key_is_a_folder_name_of_the_model_and_budget():
    assert layout.encoder_key("sentence-transformers/allenai-specter", 512) == (
        "sentence-transformers--allenai-specter_512"
    )
    assert layout.encoder_key("builtin:tiny-bert", 64) == "builtin-tiny-bert_64"
    assert layout.encoder_key("/models/my specter/", 128) == "models--my-specter_128"
    assert layout.encoder_key("..", 8) == "model_8"
