"""The workflow's card: reference format, what the reference left out, plots, no placeholders."""

from __future__ import annotations

import ast
import json
import re

import pytest
from huggingface_hub import ModelCard
from tiny_run import write_model_dir, write_probe, write_tables, write_tokenized
from training_settings import training_settings

from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.train_baseline import train_baseline
from arxivcat.report.card_facts import CardError
from arxivcat.report.card_training import hyperparameter_lines
from arxivcat.report.choose_threshold import write_threshold
from arxivcat.report.trainer_run import RunDirError, maybe_round
from arxivcat.report.write_card import write_card

TRAINING = {
    "model": "builtin:tiny-bert",
    "max_length": 64,
    "learning_rate": 1e-3,
    "train_batch_size": 8,
    "eval_batch_size": 16,
    "seed": 20230227,
    "num_epochs": 2,
    "lr_scheduler_type": "linear",
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "device": "cpu",
    "precision": "auto",
}
EXPERIMENT = {
    "name": "cv-tiny",
    "dataset_config": "CV with 10-pct Weak Negatives",
    "labels": ["cs.CV"],
    "split": "reference",
    "split_settings": {
        "min_year": 2015,
        "fractions": {"train": 0.7, "validation": 0.15, "test": 0.15},
        "seed": 20230227,
        "method": "stratified",
    },
    "weak_negatives": 0.1,
    "training": TRAINING,
}
SPLIT_REPORT = {
    "experiment": "cv-tiny",
    "labels": ["cs.CV"],
    "label_mode": "any",
    "split": "reference",
    "year_range": [2015, 2019],
    "weak_negative_share": 0.1,
    "weak_negatives": 4,
    "splits": {
        "train": {
            "rows": 44,
            "papers": 40,
            "positives": 20,
            "positive_rate": 0.4545,
            "weak_negatives": 4,
        },
        "validation": {
            "rows": 20,
            "papers": 20,
            "positives": 10,
            "positive_rate": 0.5,
            "weak_negatives": 0,
        },
        "test": {
            "rows": 20,
            "papers": 20,
            "positives": 10,
            "positive_rate": 0.5,
            "weak_negatives": 0,
        },
    },
    "top_primary_categories": [["cs.CV", 50], ["math.NT", 30]],
}
MANIFEST = {
    "source": "kaggle:Cornell-University/arxiv",
    "retrieved": "2026-11-02T10:00:00Z",
    "records": 2_912_345,
    "sha256": "ab" * 32,
    "source_sha256": "cd" * 32,
    "snapshot_date": "2026-10-30",
}


@pytest.fixture(scope="module")
def workflow_card(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    data = write_tables(root / "data")
    tokenized = write_tokenized(data, root / "tokenized")
    model = write_model_dir(root / "model", TRAINING)
    evaluate_model(
        model,
        tokenized,
        root / "eval" / "metrics.json",
        root / "eval" / "predictions.parquet",
        training_settings(**TRAINING),
    )
    (root / "split_report.json").write_text(json.dumps(SPLIT_REPORT))
    (root / "manifest.json").write_text(json.dumps(MANIFEST))
    tables = {split: data / f"{split}.parquet" for split in ("train", "validation", "test")}
    train_baseline(tables, root / "baseline.json", seed=1,
                   predictions_path=root / "baseline.parquet")  # fmt: skip
    write_threshold(root / "eval" / "predictions.parquet", root / "threshold.json")
    write_card(
        experiment=EXPERIMENT,
        model_dir=model,
        metrics_path=root / "eval" / "metrics.json",
        split_report_path=root / "split_report.json",
        manifest_path=root / "manifest.json",
        output_path=root / "out" / "card.md",
        predictions_path=root / "eval" / "predictions.parquet",
        baseline_path=root / "baseline.json",
        threshold_path=root / "threshold.json",
        plot_paths={
            key: root / "out" / f"card_{key}.png"
            for key in ("pr_curve", "loss", "years", "calibration")
        },
        table_paths={"test": data / "test.parquet"},
        probe_path=write_probe(data, root / "probe"),
        baseline_predictions_path=root / "baseline.parquet",
        probe_predictions_path=root / "probe" / "predictions.parquet",
    )
    return root


def test_card_parses_and_reports_the_evaluate_numbers(workflow_card):
    card = ModelCard.load(workflow_card / "out" / "card.md")
    metrics = json.loads((workflow_card / "eval" / "metrics.json").read_text())
    results = card.data.eval_results
    for split in ("validation", "test"):
        assert {r.metric_type: r.metric_value for r in results if r.dataset_split == split} == {
            m: metrics[split][m] for m in ("accuracy", "f1", "precision", "recall")
        }
    assert {r.dataset_split for r in results} == {"validation", "test"}
    assert results[0].dataset_config == "CV with 10-pct Weak Negatives"
    assert card.data.model_name == "cv-tiny"
    assert "More information needed" not in card.content
    assert f"- F1: {maybe_round(metrics['validation']['f1'])}\n" in card.text


def test_card_states_what_the_reference_left_out(workflow_card):
    text = (workflow_card / "out" / "card.md").read_text()
    metrics = json.loads((workflow_card / "eval" / "metrics.json").read_text())
    assert "`cs.CV`" in text and "label 0 means none is" in text  # label definition
    assert "2026-10-30" in text and "2,912,345 records" in text  # snapshot and date
    assert "first submitted in 2015 or later" in text  # year filter
    assert "| train | 44 | 40 | 20 | 45.45% | 4 |" in text  # split sizes, positive rate
    assert "10% of the training size" in text  # weak-negative share
    test_f1 = f"{metrics['test']['f1']:.4f}"
    assert "| test | 20 |" in text and test_f1 in text  # test metrics
    # Epoch 1 (F1 0.55) beat the last (0.5): the card says so.
    assert "Best validation F1: 0.5500 at epoch 1.0" in text
    assert "cpu (x86_64, 2 threads)" in text and "37.5 samples/s" in text
    assert "- Transformers 5.23.0" in text


def test_model_and_baseline_are_compared_each_at_its_own_threshold(workflow_card):
    text = (workflow_card / "out" / "card.md").read_text()
    section = text.split("### Comparison with baselines", 1)[1].split("\n## ", 1)[0]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in section.splitlines()}
    metrics = json.loads((workflow_card / "eval" / "metrics.json").read_text())
    chosen = json.loads((workflow_card / "threshold.json").read_text())
    baseline = json.loads((workflow_card / "baseline.json").read_text())
    model = rows["this model (fine-tuned)"]
    assert f"| {metrics['test']['f1']:.4f} | {chosen['threshold']:.4f} |" in model
    assert f"**{chosen['test']['at_threshold']['f1']:.4f}**" in model
    assert " training on cpu (" in model
    tfidf = rows["TF-IDF + logistic regression, class-weighted"]
    assert f"| {baseline['threshold']['threshold']:.4f} |" in tfidf
    assert f"**{baseline['threshold']['test']['at_threshold']['f1']:.4f}**" in tfidf
    assert "fit on one CPU core |" in tfidf
    probe = json.loads((workflow_card / "probe" / "probe.json").read_text())
    frozen = rows["frozen base encoder (CLS pooling) + logistic regression, class-weighted"]
    assert f"| {probe['validation']['f1']:.4f} | {probe['test']['f1']:.4f} |" in frozen
    assert f"| {probe['threshold']['threshold']:.4f} |" in frozen
    assert f"**{probe['threshold']['test']['at_threshold']['f1']:.4f}**" in frozen
    # Its compute: its fits and its share of the embedding pass (1.5 s for the 84 rows here).
    share = probe["embedding"]
    assert share["rows"] == share["of"] == 84 and share["seconds"] == 1.5
    pass_words = "2 s its share of the embedding pass (84 of 84 papers embedded in 2 s on cpu fp32)"
    assert f"s fit, {pass_words} |" in frozen
    assert (
        "(`builtin:tiny-bert`, 64 tokens, CLS pooling, from the default: builtin:tiny-bert has no "
        "pooling configuration)"
    ) in section
    assert f"C ({probe['C']:g}, from the grid 0.001, 0.01, 0.1, 1, 10)" in section
    gain = chosen["test"]["at_threshold"]["f1"] - probe["threshold"]["test"]["at_threshold"]["f1"]
    assert f"Fine-tuning changed the test F1 by {gain:+.4f} against the frozen probe" in section
    assert "never used to choose" in section


def test_each_baseline_difference_comes_with_its_paired_interval(workflow_card):
    from arxivcat.model.metrics import f1_difference_interval
    from arxivcat.report.choose_threshold import decisions
    from arxivcat.report.drift import split_scores

    text = (workflow_card / "out" / "card.md").read_text()
    section = text.split("### Comparison with baselines", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert "| This model minus it, test F1 at own thresholds [95% interval] |" in lines[0]
    assert lines[1].count("|") == lines[0].count("|") == 9
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    cells = {row[0]: row[6] for row in rows}
    assert cells["this model (fine-tuned)"] == ""
    chosen = json.loads((workflow_card / "threshold.json").read_text())
    ids, labels, ours = split_scores(workflow_card / "eval" / "predictions.parquet", None)["test"]
    for name, record, predictions in (
        ("TF-IDF + logistic regression, class-weighted", "baseline.json", "baseline.parquet"),
        ("frozen base encoder (CLS pooling) + logistic regression, class-weighted",
         "probe/probe.json", "probe/predictions.parquet"),
    ):  # fmt: skip
        threshold = json.loads((workflow_card / record).read_text())["threshold"]
        their_ids, _, theirs = split_scores(workflow_card / predictions, None)["test"]
        assert list(their_ids) == list(ids)  # the same test papers, in the same order
        ours_at, theirs_at = decisions(ours, chosen), decisions(theirs, threshold)
        found = f1_difference_interval(labels, ours_at, theirs_at)
        # The paired difference is the difference of the bold at-threshold F1s.
        bold = [r["test"]["at_threshold"]["f1"] for r in (chosen, threshold)]
        assert found["difference"] == pytest.approx(bold[0] - bold[1])
        assert found["low"] <= found["difference"] <= found["high"]
        expected = f"{found['difference']:+.4f} [{found['low']:+.4f}, {found['high']:+.4f}]"
        assert cells[name] == expected
    assert "resamples the test papers that both scored (a paired bootstrap)" in section
    assert f"95% paired interval [{found['low']:+.4f}, {found['high']:+.4f}])" in section


def test_the_card_gives_f1_by_year_other_shares_and_calibration(workflow_card):
    text = (workflow_card / "out" / "card.md").read_text()
    years = text.split("### Newer papers and years", 1)[1].split("\n### ", 1)[0]
    assert "No papers were held out" in years
    assert [line.split(" | ")[1] for line in years.splitlines() if line.startswith("| test |")] == [
        "2015", "2016", "2017", "2018", "2019"
    ]  # fmt: skip
    shares = text.split("### Other shares of positives", 1)[1].split("\n### ", 1)[0]
    assert "| validation split: " in shares and "this model (fine-tuned): precision" in shares
    calibration = text.split("### Calibration", 1)[1].split("\n## ", 1)[0]
    assert "Expected calibration error on validation" in calibration
    assert "](card_calibration.png)" in calibration


def test_plots_are_saved_beside_the_card_and_linked(workflow_card):
    text = (workflow_card / "out" / "card.md").read_text()
    for name in ("card_pr_curve.png", "card_loss.png", "card_years.png", "card_calibration.png"):
        path = workflow_card / "out" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in text


def test_training_results_table_has_one_row_per_epoch(workflow_card):
    text = (workflow_card / "out" / "card.md").read_text()
    table = text.split("### Training results", 1)[1].split("###", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows[0].split("|")[1:-1] == [
        " Training Loss ",
        " Epoch ",
        " Step ",
        " Validation Loss ",
        " Accuracy ",
        " F1     ",
        " Precision ",
        " Recall ",
    ]
    assert [r.split("|")[1].strip() for r in rows[2:]] == ["0.7", "0.35"]


def test_hyperparameter_lines_follow_transformers_wording():
    info = {
        "distributed_type": "MULTI_GPU",
        "device_count": 4,
        "precision": "bf16",
        "device_type": "cuda",
    }
    lines = hyperparameter_lines({**TRAINING, "weight_decay": 0.01, "warmup_ratio": 0.1}, info)
    assert lines == [
        "learning_rate: 0.001",
        "train_batch_size: 8",
        "eval_batch_size: 16",
        "seed: 20230227",
        "distributed_type: multi-GPU",
        "num_devices: 4",
        "total_train_batch_size: 8",
        "optimizer: AdamW with betas=(0.9,0.999), epsilon=1e-08 and weight_decay=0.01",
        "lr_scheduler_type: linear",
        "lr_scheduler_warmup_ratio: 0.1",
        "num_epochs: 2",
        "mixed_precision_training: Native AMP",
    ]
    single = hyperparameter_lines(TRAINING, {"distributed_type": "NO", "precision": "fp32"})
    assert not any(line.startswith(("distributed_type", "mixed")) for line in single)
    assert not any(line.startswith(("pos_weight", "head_refit")) for line in single)
    weighted = {**TRAINING, "pos_weight": "auto", "pos_weight_cap": 100}
    record = {"heads": [{"C": 0.1}], "rows": {"train": 900, "validation": 300}}
    refit = hyperparameter_lines(weighted, {"head_refit": {**record, "train_rows_available": 900}})
    assert "pos_weight: auto (negatives/positives per head, capped at 100)" in refit
    (line,) = [line for line in refit if line.startswith("head_refit: after training, each")]
    assert "pooled features of the training rows, its C chosen on validation" in line
    record = {**record, "rows": {"train": 200_000, "validation": 300}}
    info = {"head_refit": {**record, "train_rows_available": 800_000}}
    sampled = hyperparameter_lines(weighted, info)
    assert any("training rows (a sample of 200,000 of 800,000), its C" in x for x in sampled)
    first = {**record, "encoder": "pretrained", "train_rows_available": 800_000}
    fitted_first = {**weighted, "head_init": "logistic"}
    both = hyperparameter_lines(fitted_first, {**info, "head_init": first})
    (init,) = [line for line in both if line.startswith("head_init: before training, each")]
    assert "on the pretrained encoder's pooled features" in init
    (refit,) = [line for line in both if line.startswith("head_refit: after training, each")]
    assert "on the fine-tuned encoder's pooled features" in refit
    assert both.index(init) + 1 == both.index(refit)
    # A resumed run has no record of the fit (its checkpoint held the heads); the line stays.
    resumed = hyperparameter_lines(fitted_first, {})
    assert any(x.startswith("head_init: before training, each") for x in resumed)
    assert not any(x.startswith("head_init") for x in hyperparameter_lines(weighted, info))


def test_bad_inputs_fail_with_the_file_named(workflow_card, tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text('{"validation": {"f1": 1.0}')
    args = dict(
        experiment=EXPERIMENT,
        model_dir=workflow_card / "model",
        split_report_path=None,
        manifest_path=None,
        output_path=tmp_path / "card.md",
    )
    with pytest.raises(RunDirError, match=rf"{bad}:1: malformed JSON"):
        write_card(metrics_path=bad, **args)
    bad.write_text('{"validation": {"f1": 1.0}}')
    with pytest.raises(CardError, match="lack accuracy, precision, recall"):
        write_card(metrics_path=bad, **args)
    assert not (tmp_path / "card.md").exists()


def test_synthetic_data_are_called_synthetic_and_real_data_are_not(workflow_card):
    from arxivcat.report.card_sections import synthetic_note

    real = (workflow_card / "out" / "card.md").read_text()
    assert "Synthetic data" not in real
    note = synthetic_note({"source": "synthetic:3000"})
    assert "not real arXiv papers" in note and "`synthetic:3000`" in note
    assert synthetic_note(MANIFEST) == synthetic_note(None) == ""


def test_unwritable_card_names_its_path(workflow_card, tmp_path):
    from arxivcat.report.outputs import OutputError

    args = dict(
        experiment=EXPERIMENT,
        model_dir=workflow_card / "model",
        metrics_path=workflow_card / "eval" / "metrics.json",
        split_report_path=None,
        manifest_path=None,
    )
    # sysfs refuses new files even to root.
    with pytest.raises(OutputError, match=r"^/sys/card\.md: cannot write: Permission denied$"):
        write_card(output_path="/sys/card.md", **args)
    with pytest.raises(OutputError, match=r"^/sys/loss\.png: cannot write: Permission denied$"):
        write_card(output_path=tmp_path / "card.md", plot_paths={"loss": "/sys/loss.png"}, **args)
    assert not (tmp_path / "card.md").exists()


def test_plots_go_where_the_rule_says_and_the_card_links_them_relatively(workflow_card, tmp_path):
    plots = {"pr_curve": tmp_path / "figures" / "pr.png", "loss": tmp_path / "figures" / "l.png"}
    write_card(
        experiment=EXPERIMENT,
        model_dir=workflow_card / "model",
        metrics_path=workflow_card / "eval" / "metrics.json",
        split_report_path=None,
        manifest_path=None,
        output_path=tmp_path / "cards" / "cv.md",
        predictions_path=workflow_card / "eval" / "predictions.parquet",
        plot_paths=plots,
    )
    text = (tmp_path / "cards" / "cv.md").read_text()
    assert "](../figures/pr.png)" in text and "](../figures/l.png)" in text
    assert all(path.read_bytes()[:4] == b"\x89PNG" for path in plots.values())
    assert sorted(p.name for p in (tmp_path / "cards").iterdir()) == ["cv.md"]


def test_one_epoch_loss_plot_marks_its_points():
    from arxivcat.report.plots import loss_figure

    figure = loss_figure([(3, 0.69)], [(3, 0.7)], "one epoch")
    train, validation = figure.axes[0].get_lines()
    assert train.get_marker() == "o" and validation.get_marker() == "o"
    many = loss_figure([(step, 0.5) for step in range(1, 500)], [], "long run")
    assert many.axes[0].get_lines()[0].get_marker() in (None, "None", "")


HOSTILE_NAMES = [
    'AI "quoted"',
    'AI"]); import os; os.system("echo injected"); x = (["',
    "AI' + __import__('os').getcwd() + '",
    "AI\n---\nlicense: other\n```\nimport os",
    "AI `code` \\ backslash\\n # not a comment: {yes}",
]


def snippet_of(card_text: str) -> str:
    (snippet,) = re.findall(r"```python\n(.*?)\n```\n", card_text, re.S)
    return snippet


def snippet_shape(snippet: str) -> tuple[list[str], list[object]]:
    """The snippet's statements (kinds) and the string constants it holds."""
    tree = ast.parse(snippet)
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    return [type(node).__name__ for node in tree.body], constants


# A folder name that, pasted between double quotes, makes a snippet that still compiles.
CRAFTED_FOLDER = (
    'x", truncation="only_second"); import os; os.system("echo injected"); '
    'pipeline("text-classification", model="x'
)


@pytest.mark.parametrize(
    ("name", "folder"),
    [*((name, "results/cv/hub") for name in HOSTILE_NAMES), ("AI", CRAFTED_FOLDER)],
)
def test_values_are_escaped_where_they_land_in_the_card(workflow_card, tmp_path, name, folder):
    """A dataset_config names the positive class of a multi-label experiment: it reaches the
    snippet (as a label), the prose and the front matter, as does the model folder's name."""
    from arxivcat.report.choose_threshold import write_threshold

    threshold = write_threshold(workflow_card / "eval" / "predictions.parquet", tmp_path / "t.json")
    args = dict(
        model_dir=workflow_card / "model",
        metrics_path=workflow_card / "eval" / "metrics.json",
        split_report_path=None,
        manifest_path=None,
        threshold_path=tmp_path / "t.json",
    )
    plain = {**EXPERIMENT, "labels": ["cs.AI", "cs.LG"], "dataset_config": "AI"}
    write_card(experiment=plain, output_path=tmp_path / "plain.md", folder_name="hub", **args)
    hostile = {**plain, "dataset_config": name}
    card = write_card(experiment=hostile, output_path=tmp_path / "c.md", folder_name=folder, **args)

    snippet = snippet_of(card.text)
    compile(snippet, "snippet", "exec")
    kinds, constants = snippet_shape(snippet)
    plain_kinds, plain_constants = snippet_shape(snippet_of((tmp_path / "plain.md").read_text()))
    assert kinds == plain_kinds  # no statement added
    assert constants == [
        folder if c == "hub" else name if c == "AI" else c for c in plain_constants
    ]
    assert threshold["threshold"] in constants
    # The front matter holds the name as it is, and nothing more.
    plain_data = ModelCard.load(tmp_path / "plain.md").data.to_dict()
    data = card.data.to_dict()
    assert set(data) == set(plain_data) and data["license"] == "apache-2.0"
    assert {r.dataset_config for r in card.data.eval_results} == {name}
    # Markdown sees the same blocks in the Hub sections: one fenced block (the snippet, as
    # written), no new heading.  (The config refuses line ends in a dataset_config, which the
    # card's other sections quote.)
    sections = "## How to use" + card.text.split("## How to use", 1)[1]
    plain_sections = "## How to use" + (tmp_path / "plain.md").read_text().split("## How to use")[1]
    assert markdown_blocks(sections) == markdown_blocks(plain_sections)
    (fence,) = [t for t in markdown_tokens(sections) if t.type == "fence"]
    assert fence.info == "python" and fence.content == snippet + "\n"


def markdown_tokens(body: str) -> list:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").parse(body)


def markdown_blocks(body: str) -> list[str]:
    """A card body's block structure: the kind of each block-level token, headings named."""
    tokens = markdown_tokens(body)
    return [
        f"{t.type}:{tokens[i + 1].content}" if t.type == "heading_open" else t.type
        for i, t in enumerate(tokens)
        if t.block and t.type != "inline"
    ]
