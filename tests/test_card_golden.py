"""Golden tests: cards rendered from the reference's own run directories match its cards.

``python -m arxivcat card`` on ``../shared/data/reference-runs/{cv-32,ai-full-weak-negs}`` must
reproduce the reference README's model-index values exactly, its hyperparameter lines and its
"Training results" rows, with no "More information needed" left.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from arxivcat.cli import main

REPO = Path(__file__).resolve().parents[1]
RUNS = ("cv-32", "ai-full-weak-negs")


def parse(text: str) -> dict:
    """Front matter, hyperparameter lines and results-table rows of a card's text."""
    _, front, body = text.split("---\n", 2)
    hyper = body.split("### Training hyperparameters", 1)[1].split("###", 1)[0]
    table = body.split("### Training results", 1)[1].split("###", 1)[0]
    return {
        "meta": yaml.safe_load(front),
        "hyperparameters": [line for line in hyper.splitlines() if line.startswith("- ")],
        "rows": [line for line in table.splitlines() if line.startswith("|")],
        "results": body.split("evaluation set:\n", 1)[1].split("\n\n", 1)[0].splitlines(),
    }


def model_index_values(meta: dict) -> dict:
    (entry,) = meta["model-index"]
    (result,) = entry["results"]
    return {
        "name": entry["name"],
        "dataset": result["dataset"],
        "task": result["task"],
        "metrics": {m["type"]: (m["name"], m["value"]) for m in result["metrics"]},
    }


@pytest.fixture(scope="module")
def rendered(shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("golden")
    cards = {}
    for name in RUNS:
        output = root / name / "README.md"  # its folder is created
        status = main(
            [
                "card",
                "--run-dir",
                str(shared / "data" / "reference-runs" / name),
                "--experiment",
                name,
                "--output",
                str(output),
                "--config",
                str(REPO / "config" / "config.yaml"),
                "--distributed-type",
                "tpu",
            ]
        )
        assert status == 0
        cards[name] = output
    return cards


@pytest.mark.parametrize("name", RUNS)
def test_model_index_values_are_the_reference_values(rendered, shared, name):
    reference = parse((shared / "data" / "reference-runs" / name / "README.md").read_text())
    ours = parse(rendered[name].read_text())
    assert model_index_values(ours["meta"]) == model_index_values(reference["meta"])
    for key in ("license", "datasets", "metrics"):
        assert ours["meta"][key] == reference["meta"][key]
    assert set(reference["meta"]["tags"]) <= set(ours["meta"]["tags"])
    assert list(ours["meta"])[:4] == list(reference["meta"])[:4]


@pytest.mark.parametrize("name", RUNS)
def test_hyperparameters_table_and_results_match_the_reference(rendered, shared, name):
    reference_text = (shared / "data" / "reference-runs" / name / "README.md").read_text()
    reference = parse(reference_text)
    ours = parse(rendered[name].read_text())
    assert ours["hyperparameters"] == reference["hyperparameters"]
    assert ours["rows"] == reference["rows"]
    assert len(ours["rows"]) == 5  # header, alignment, three epochs
    assert ours["results"] == reference["results"]
    sentence = next(line for line in reference_text.splitlines() if "fine-tuned version" in line)
    assert sentence in rendered[name].read_text()


@pytest.mark.parametrize("name", RUNS)
def test_reference_card_placeholders_are_replaced(rendered, name):
    text = rendered[name].read_text()
    card = ModelCard.load(rendered[name])
    assert card.data.eval_results[0].dataset_split == "validation"
    assert "More information needed" not in text
    for heading in (
        "## Model description",
        "## Intended uses & limitations",
        "## Training and evaluation data",
        "### Framework versions",
    ):
        assert heading in text
    # What the run directory cannot tell is said in words, not left as a placeholder.
    assert "records no evaluation on the test split" in text
    assert "Training took 1" in text  # throughput from all_results.json
    assert (rendered[name].parent / "README_loss.png").is_file()


def test_weak_negative_card_names_its_share(rendered):
    text = rendered["ai-full-weak-negs"].read_text()
    assert "10% of the training size" in text
    assert "1,203,010 training" in text


def test_cli_runs_as_a_module(shared, tmp_path):
    output = tmp_path / "card.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "arxivcat",
            "card",
            "--run-dir",
            str(shared / "data" / "reference-runs" / "cv-32"),
            "--experiment",
            "cv-32",
            "--output",
            str(output),
            "--no-plots",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ModelCard.load(output).data.model_name == "cv-32"
    assert not (tmp_path / "card_loss.png").exists()


def card_args(run: Path, output: Path) -> list[str]:
    """The card command for the cv-32 run directory ``run``, written to ``output``."""
    return [
        "card",
        "--run-dir",
        str(run),
        "--experiment",
        "cv-32",
        "--output",
        str(output),
        "--config",
        str(REPO / "config" / "config.yaml"),
    ]


def test_missing_and_malformed_run_files_fail_clearly(shared, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(shared / "data" / "reference-runs" / "cv-32", run)
    args = card_args(run, tmp_path / "card.md")

    (run / "all_results.json").write_text('{"eval_f1": 0.5,\n  "eval_loss": }')
    assert main(args) == 1
    assert f"{run / 'all_results.json'}:2: malformed JSON" in capsys.readouterr().err

    (run / "all_results.json").unlink()
    (run / "trainer_state.json").unlink()
    assert main(args) == 1
    assert f"{run / 'trainer_state.json'}: file not found" in capsys.readouterr().err

    assert main([*args[:4], "cv-99", *args[5:]]) == 1
    assert "unknown experiment 'cv-99'" in capsys.readouterr().err

    state = {"log_history": [{"loss": 0.5, "step": 10, "epoch": 1.0}]}
    (run / "trainer_state.json").write_text(json.dumps(state))
    (run / "eval_results.json").unlink()
    assert main(args) == 1
    assert "no final evaluation" in capsys.readouterr().err
    assert not (tmp_path / "card.md").exists()


def test_card_without_eval_results_says_its_numbers_are_the_last_epochs(shared, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(shared / "data" / "reference-runs" / "cv-32", run)
    (run / "eval_results.json").unlink()
    results = json.loads((run / "all_results.json").read_text())
    train_only = {k: v for k, v in results.items() if not k.startswith("eval_")}
    (run / "all_results.json").write_text(json.dumps(train_only))
    output = tmp_path / "README.md"
    assert main([*card_args(run, output), "--no-plots"]) == 0
    source = "metrics from the last per-epoch evaluation in trainer_state.json"
    assert source in capsys.readouterr().err
    text = output.read_text()
    assert f"Source of these numbers: {source}" in text
    # The last epoch's F1 (0.8732), not the final evaluation's (0.8730).
    assert "- F1: 0.8732\n" in text


def test_card_with_final_evaluation_names_no_other_source(rendered):
    assert "Source of these numbers" not in rendered["cv-32"].read_text()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        # sysfs refuses new files even to root, so this holds for every user; the output is
        # tried before any work.
        (
            "/sys/README.md",
            "{output}: cannot write: folder /sys is not writable (Permission denied)",
        ),
        ("{tmp}/file/missing/README.md", "{output}: cannot write: {tmp}/file is not a folder"),
        ("{tmp}", "{output}: is a directory, not a file to write"),
    ],
    ids=["read-only-folder", "parent-is-a-file", "directory"],
)
def test_unusable_output_fails_in_one_line(shared, tmp_path, capsys, output, message):
    output = output.format(tmp=tmp_path)
    (tmp_path / "file").write_text("not a folder")
    status = main(card_args(shared / "data" / "reference-runs" / "cv-32", Path(output)))
    err = capsys.readouterr().err
    assert status == 1
    assert err == f"arxivcat card: error: {message.format(tmp=tmp_path, output=output)}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
