"""A multi-head model through tokenize, train, evaluate and the threshold, on the tiny BERT."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from datasets import Dataset, DatasetDict
from sklearn.metrics import f1_score
from synthetic_tables import write_tables
from tiny_run import write_probe
from training_settings import TINY_TRAINING, training_settings
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
)

from arxivcat.model.devices import resolve_precision
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.inference import Placement
from arxivcat.model.launch import TrainingError
from arxivcat.model.loading import load_classifier
from arxivcat.model.loss import ClassifierLoss, positive_weights
from arxivcat.model.refit_heads import (
    C_GRID,
    fit_heads,
    head_features,
    refit_heads,
    sample_rows,
    set_classifier,
)
from arxivcat.model.split_scoring import VALIDATION_PASS, read_pass, score_split
from arxivcat.model.tokenize import read_heads, tokenize_splits
from arxivcat.model.train import _build_trainer, train_model
from arxivcat.model.trainer_extensions import ArxivcatTrainer
from arxivcat.report.choose_threshold import choose_threshold
from arxivcat.splits.table_schema import experiment_schema, label_array

HEADS = ["CV", "other"]


def _multi_head_tables(root):
    """The synthetic tables with two heads: the vision label, and any other arXiv paper."""
    paths = write_tables(root / "binary")
    out = {}
    for split, path in paths.items():
        table = pq.read_table(path)
        label = table.column("label").to_numpy().astype(np.int8)
        weak = table.column("is_weak_negative").to_numpy(zero_copy_only=False)
        matrix = np.stack([label, ((1 - label) & ~weak).astype(np.int8)], axis=1)
        schema = experiment_schema(HEADS)
        columns = {name: table.column(name) for name in schema.names}
        columns["label"] = label_array(matrix, schema)
        out[split] = root / f"{split}.parquet"
        pq.write_table(pa.table(columns, schema=schema), out[split])
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("heads")
    tables = _multi_head_tables(root)
    tokenize_splits(tables, "builtin:tiny-bert", 64, root / "tokenized", num_proc=1)
    settings = training_settings(
        **{**TINY_TRAINING, "num_epochs": 2, "pos_weight": "auto", "refit_heads": True}
    )
    info = train_model(root / "tokenized", root / "model", root / "store", settings, 2)
    metrics = evaluate_model(
        root / "model",
        root / "tokenized",
        root / "eval" / "metrics.json",
        root / "eval" / "predictions.parquet",
        settings,
    )
    return root, info, metrics


def test_the_model_has_one_sigmoid_per_head_named_after_it(run):
    root, info, _ = run
    assert read_heads(root / "tokenized") == HEADS
    config = AutoConfig.from_pretrained(root / "model")
    assert config.problem_type == "multi_label_classification"
    assert config.id2label == {0: "CV", 1: "other"} and config.num_labels == 2
    # pos_weight auto: negatives/positives of each head in the training split (weak included).
    labels = np.array(pq.read_table(root / "train.parquet")["label"].to_pylist())
    expected = (len(labels) - labels.sum(axis=0)) / labels.sum(axis=0)
    assert info["positive_weights"] == pytest.approx(expected.tolist(), rel=1e-3)


def test_evaluation_reports_each_head_and_the_pooled_numbers(run):
    root, info, metrics = run
    assert set(metrics["heads"]) == set(HEADS)
    for head in HEADS:
        for split in ("validation", "test"):
            m = metrics["heads"][head][split]
            assert m["samples"] == 64 and {"f1", "precision", "recall", "pr_auc"} <= set(m)
    pooled = metrics["test"]
    f1s = [metrics["heads"][h]["test"]["f1"] for h in HEADS]
    assert pooled["macro_f1"] == pytest.approx(np.mean(f1s))
    (_, fp0), (fn0, tp0) = metrics["heads"]["CV"]["test"]["confusion_matrix"]
    (_, fp1), (fn1, tp1) = metrics["heads"]["other"]["test"]["confusion_matrix"]
    tp, fp, fn = tp0 + tp1, fp0 + fp1, fn0 + fn1
    assert pooled["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    # The training's last validation pass is the evaluation's (computed once).
    assert metrics["validation"]["pass"] == info["validation_pass"]
    table = pq.read_table(root / "eval" / "predictions.parquet")
    assert table.schema.field("probability").type == pa.list_(pa.float64(), 2)


def test_each_head_gets_its_own_threshold_on_validation(run):
    root, _, _ = run
    chosen = choose_threshold(root / "eval" / "predictions.parquet")
    assert set(chosen["heads"]) == set(HEADS)
    for head in HEADS:
        report = chosen["heads"][head]
        assert 0 <= report["threshold"] <= 1
        at = report["validation"]
        assert at["at_threshold"]["f1"] >= at["at_0.5"]["f1"]
    pooled = chosen["pooled"]["validation"]
    assert pooled["at_threshold"]["macro_f1"] >= pooled["at_0.5"]["macro_f1"] - 1e-12


def test_losses_weigh_positives_as_asked():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    labels = torch.tensor([[1, 0], [0, 1]])
    plain = ClassifierLoss(True, None)(logits, labels)
    weighted = ClassifierLoss(True, np.array([1.0, 3.0]))(logits, labels)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels.float(), pos_weight=torch.tensor([1.0, 3.0])
    )
    assert weighted == pytest.approx(float(expected)) and weighted > plain
    binary = ClassifierLoss(False, np.array([4.0]))(logits, torch.tensor([0, 1]))
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1]), torch.tensor([1.0, 4.0]))
    assert binary == pytest.approx(float(ce))
    ys = np.array([[1, 0], [0, 0], [0, 0], [1, 1]])
    assert positive_weights(ys, "auto", 100).tolist() == [1.0, 3.0]
    assert positive_weights(ys, "auto", 2).tolist() == [1.0, 2.0]
    assert positive_weights(ys, 5, 2).tolist() == [5.0, 5.0]
    assert positive_weights(ys, None, 2) is None


def test_refit_heads_are_the_logistic_regressions_on_the_kept_features(run):
    root, info, metrics = run
    refit = info["head_refit"]
    assert len(refit["heads"]) == len(HEADS) and all(h["C"] in C_GRID for h in refit["heads"])
    # Its cost is part of the training's recorded runtime (cards and summary read that).
    assert 0 < refit["seconds_in_train_runtime"] < info["train_runtime"]
    saved = json.loads((root / "model" / "training_info.json").read_text())
    assert saved["head_refit"] == refit and saved["train_runtime"] == info["train_runtime"]
    model = AutoModelForSequenceClassification.from_pretrained(root / "model").eval()
    dataset = DatasetDict.load_from_disk(str(root / "tokenized"))
    assert refit["rows"] == {"train": len(dataset["train"]), "validation": 64}
    cpu = Placement(torch.device("cpu"), "fp32")
    pair = [head_features(model, dataset[s], 32, cpu, 60) for s in ("train", "validation")]
    weights, biases, _ = fit_heads(*pair)
    # Equal up to the fits' tolerance: the training process's features differ from these in the
    # last bits, which the tiny model's large weights amplify (its own passes differ by 1e-4).
    assert model.classifier.weight.detach().numpy() == pytest.approx(weights, abs=5e-3)
    assert model.classifier.bias.detach().numpy() == pytest.approx(biases, abs=5e-3)
    # The model folder's validation pass is the refit heads' (evaluate reuses it), not training's.
    fresh = score_split(model, dataset["validation"], 32, cpu, "validation")
    kept = read_pass(root / "model" / VALIDATION_PASS)
    assert kept.probabilities == pytest.approx(fresh.probabilities, abs=5e-3)
    assert metrics["heads"]["CV"]["validation"]["f1"] == pytest.approx(
        f1_score(fresh.labels[:, 0], fresh.probabilities[:, 0] > 0.5)
    )


def test_head_init_logistic_trains_from_the_regressions_on_the_pretrained_features(
    run, tmp_path, monkeypatch
):
    root, _, _ = run
    started = {}
    train = ArxivcatTrainer.train

    def recording(self, *args, **kwargs):
        started["heads"] = [p.detach().clone().numpy() for p in self.model.classifier.parameters()]
        return train(self, *args, **kwargs)

    monkeypatch.setattr(ArxivcatTrainer, "train", recording)
    settings = training_settings(**{**TINY_TRAINING, "num_epochs": 1, "head_init": "logistic"})
    info = train_model(root / "tokenized", tmp_path / "model", tmp_path / "store", settings, 1)
    fitted = info["head_init"]
    assert fitted["encoder"] == "pretrained" and "head_refit" not in info
    assert len(fitted["heads"]) == len(HEADS) and all(h["C"] in C_GRID for h in fitted["heads"])
    assert 0 < fitted["seconds"] < info["train_runtime"]
    # The heads training started from: the regressions on the untrained model's features, computed
    # as training computes them (bf16 inference on a CPU with native bf16, the eval batch size).
    pretrained = load_classifier("builtin:tiny-bert", seed=settings.seed, heads=HEADS)
    random = pretrained.classifier.weight.detach().clone().numpy()
    dataset = DatasetDict.load_from_disk(str(root / "tokenized"))
    cpu = Placement(torch.device("cpu"), resolve_precision(settings.precision, "cpu", True))
    batch = settings.eval_batch_size
    refit_heads(
        pretrained, dataset["train"], dataset["validation"], batch, cpu, encoder="pretrained"
    )
    weights, biases = (p.detach().numpy() for p in pretrained.classifier.parameters())
    assert started["heads"][0] == pytest.approx(weights, rel=1e-4)
    assert started["heads"][1] == pytest.approx(biases, rel=1e-4, abs=1e-6)
    assert np.abs(weights).max() > 10 * np.abs(random).max()


def test_a_resumed_run_keeps_its_checkpoints_heads_rather_than_fitting_them_again(
    run, tmp_path, monkeypatch
):
    root, _, _ = run
    monkeypatch.setattr("arxivcat.model.train.refit_heads", _must_not_run)
    settings = training_settings(**{**TINY_TRAINING, "head_init": "logistic"})
    built = _build_trainer(
        root / "tokenized", tmp_path / "model", tmp_path / "store", settings, "cpu", "fp32", 1, True
    )
    assert built[1] is None


def test_a_sample_of_rows_is_seeded_ordered_and_keeps_a_rare_heads_positives():
    rows = 2000
    common = np.arange(rows) % 3 == 0  # 667 positives: about 167 in a sample of 500
    rare = np.isin(np.arange(rows), [5, 77, 400, 1999])  # about 1 of its 4 in a sample of 500
    labels = np.stack([common, rare], axis=1).astype(np.int8)
    split = Dataset.from_dict({"id": [str(i) for i in range(rows)], "labels": labels.tolist()})
    assert sample_rows(split, None, 1) is split and sample_rows(split, rows, 1) is split
    picked = [sample_rows(split, 500, seed)["id"].to_pylist() for seed in (1, 1, 2)]
    assert picked[0] == picked[1] != picked[2]
    for sample in picked:
        numbers = [int(i) for i in sample]
        assert numbers == sorted(set(numbers))  # the split's order, no row twice
        assert {5, 77, 400, 1999} <= set(numbers)  # the rare head keeps all its positives
        assert 500 <= len(numbers) <= 504
    assert sum(common[int(i)] for i in picked[0]) < 400  # the common head's are not all added


def test_a_refit_on_a_large_split_fits_on_a_seeded_sample_of_its_rows(run):
    root, _, _ = run
    train = DatasetDict.load_from_disk(str(root / "tokenized"))["train"]
    model = AutoModelForSequenceClassification.from_pretrained(root / "model")
    validation = DatasetDict.load_from_disk(str(root / "tokenized"))["validation"]
    cpu = Placement(torch.device("cpu"), "fp32")
    record, _ = refit_heads(model, train, validation, 32, cpu, max_rows=100, seed=1)
    sampled = len(sample_rows(train, 100, 1))
    assert 100 <= sampled < len(train)
    assert record["rows"] == {"train": sampled, "validation": len(validation)}
    assert record["train_rows_available"] == len(train)
    assert np.isfinite(model.classifier.weight.detach().numpy()).all()


def test_a_refit_given_a_pass_with_features_fits_on_them_and_scores_validation_from_them(
    run, monkeypatch
):
    root, info, _ = run
    # The training's refit (keep: last) took the last epoch's features.
    assert info["head_refit"]["validation_features"] == "the last epoch's pass"
    dataset = DatasetDict.load_from_disk(str(root / "tokenized"))
    train, validation = dataset["train"], dataset["validation"]
    cpu = Placement(torch.device("cpu"), "fp32")
    models = [AutoModelForSequenceClassification.from_pretrained(root / "model") for _ in "ab"]
    plain = score_split(models[0], validation, 32, cpu, "validation")
    scored = score_split(models[0], validation, 32, cpu, "validation", features=True)
    # The same pass's logits, with the features the refit fits on.
    np.testing.assert_array_equal(scored.probabilities, plain.probabilities)
    np.testing.assert_array_equal(
        scored.features, head_features(models[0], validation, 32, cpu, 60)[0]
    )
    computed, computed_pass = refit_heads(models[1], train, validation, 32, cpu)
    monkeypatch.setattr("arxivcat.model.refit_heads.score_split", _must_not_run)
    record, rescored = refit_heads(models[0], train, validation, 32, cpu, scored=scored)
    assert record["validation_features"] == "the last epoch's pass"
    assert computed["validation_features"] == "computed" and record["heads"] == computed["heads"]
    for fitted, fresh in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(fitted, fresh)
    np.testing.assert_array_equal(rescored.probabilities, computed_pass.probabilities)
    assert rescored.features is None and rescored.stats == scored.stats
    # The pass is what the refitted model gives when run afresh.
    monkeypatch.undo()
    again = score_split(models[0], validation, 32, cpu, "validation")
    np.testing.assert_allclose(rescored.probabilities, again.probabilities, atol=1e-5)
    assert rescored.loss == pytest.approx(again.loss, rel=1e-5)


@pytest.mark.parametrize(
    ("encoder", "what"), [("pretrained", "head fit before training"), ("fine-tuned", "head refit")]
)
def test_a_head_without_positive_training_rows_is_refused_by_name(run, encoder, what):
    root, _, _ = run
    dataset = DatasetDict.load_from_disk(str(root / "tokenized"))
    train = dataset["train"].map(lambda row: {"labels": [row["labels"][0], 0]})
    model = AutoModelForSequenceClassification.from_pretrained(root / "model")
    cpu = Placement(torch.device("cpu"), "fp32")
    with pytest.raises(TrainingError, match=rf"^{what}: training labels of head 1 hold a single"):
        refit_heads(model, train, dataset["validation"], 32, cpu, encoder=encoder)


def test_a_refit_binary_head_is_the_regressions_sigmoid_through_the_softmax():
    layer = torch.nn.Linear(3, 2)
    weights, bias = np.array([[0.5, -2.0, 1.0]]), np.array([0.25])
    set_classifier(layer, weights, bias)
    x = np.array([[1.0, 0.5, -1.0], [0.0, -1.0, 2.0]])
    with torch.no_grad():
        softmax = torch.softmax(layer(torch.tensor(x, dtype=torch.float32)), -1)[:, 1].numpy()
    assert softmax == pytest.approx(1 / (1 + np.exp(-(x @ weights[0] + bias[0]))), abs=1e-6)


def test_refit_heads_refuses_a_model_without_a_linear_layer_on_the_pooled_output():
    with pytest.raises(
        TrainingError, match=r"need a classifier .* refit_heads: false and head_init: random"
    ):
        refit_heads(torch.nn.Sequential(), [], [], 8, Placement(torch.device("cpu"), "fp32"))


def _must_not_run(*args, **kwargs):
    raise AssertionError("called")


def test_a_model_the_refit_cannot_serve_is_refused_before_training(run, tmp_path, monkeypatch):
    root, _, _ = run
    config = DistilBertConfig(vocab_size=30522, dim=32, n_layers=1, n_heads=2, hidden_dim=64)
    monkeypatch.setattr(
        "arxivcat.model.train.load_classifier",
        lambda *args, **kwargs: DistilBertForSequenceClassification(config),
    )
    # It could train (its vocabulary fits); a refusal after training raises too, so: not at all.
    monkeypatch.setattr("arxivcat.model.train.ArxivcatTrainer.train", _must_not_run)
    settings = training_settings(**{**TINY_TRAINING, "refit_heads": True})
    with pytest.raises(TrainingError, match="DistilBertForSequenceClassification has none"):
        train_model(root / "tokenized", tmp_path / "model", tmp_path / "store", settings, 1)
    assert not (tmp_path / "model").exists()


def test_split_report_heads_are_read_back_for_training(run):
    root, _, _ = run
    assert json.loads((root / "tokenized" / "heads.json").read_text()) == HEADS


def _split_report(root):
    splits, heads = {}, {h: {} for h in HEADS}
    for split in ("train", "validation", "test"):
        labels = np.array(pq.read_table(root / f"{split}.parquet")["label"].to_pylist())
        splits[split] = {
            "rows": len(labels),
            "papers": len(labels),
            "weak_negatives": 0,
            "positives": int(labels.any(axis=1).sum()),
            "positive_rate": 0.5,
        }
        for k, head in enumerate(HEADS):
            heads[head][split] = {"positives": int(labels[:, k].sum()), "positive_rate": 0.5}
    report = {"splits": splits, "heads": [
        {"name": h, "labels": ["cs.CV"] if h == "CV" else ["math.NT"], "splits": heads[h]}
        for h in HEADS]}  # fmt: skip
    (root / "split_report.json").write_text(json.dumps(report))
    return root / "split_report.json"


@pytest.fixture(scope="module")
def cards(run):
    from arxivcat.report.choose_threshold import write_threshold
    from arxivcat.report.write_card import write_card

    root, _, _ = run
    write_threshold(root / "eval" / "predictions.parquet", root / "threshold.json")
    experiment = {
        "name": "two", "dataset_config": "two", "labels": [], "split": "reference",
        "split_settings": {}, "weak_negatives": 0.0, "training": TINY_TRAINING,
        "heads": {"CV": ["cs.CV"], "other": ["math.NT"]}, "label_mode": "any",
    }  # fmt: skip
    common = {
        "experiment": experiment,
        "model_dir": root / "model",
        "metrics_path": root / "eval" / "metrics.json",
        "split_report_path": _split_report(root),
        "manifest_path": None,
        "predictions_path": root / "eval" / "predictions.parquet",
        "threshold_path": root / "threshold.json",
        "folder_name": str(root / "model"),
        "probe_path": write_probe(root, root / "probe"),
        "probe_predictions_path": root / "probe" / "predictions.parquet",
    }
    for head in (None, *HEADS):
        out = root / "cards" / (head or "model") / "card.md"
        write_card(output_path=out, head=head, plot_paths={"pr_curve": out.with_suffix(".png")},
                   **common)  # fmt: skip
    return root


def test_each_head_has_a_card_in_the_reference_format(cards):
    from huggingface_hub import ModelCard

    metrics = json.loads((cards / "eval" / "metrics.json").read_text())
    chosen = json.loads((cards / "threshold.json").read_text())
    card = ModelCard.load(cards / "cards" / "CV" / "card.md")
    assert card.data.model_name == "two-CV"
    results = card.data.eval_results
    assert {r.dataset_config for r in results} == {"CV"}
    by_split = {(r.dataset_split, r.metric_type): r.metric_value for r in results}
    assert by_split[("validation", "f1")] == metrics["heads"]["CV"]["validation"]["f1"]
    assert by_split[("test", "f1")] == metrics["heads"]["CV"]["test"]["f1"]
    text = card.text
    assert "Head `CV` of `two`, one classifier with 2 heads" in text
    assert f"**{chosen['heads']['CV']['threshold']:.4f}**" in text
    assert "pooled over its 2 heads" in text and "`cs.CV`" in text
    assert "](card.png)" in text
    # The frozen probe of this head, beside the fine-tuned head.
    probe = json.loads((cards / "probe" / "probe.json").read_text())["heads"]["CV"]
    row = next(line for line in text.splitlines() if line.startswith("| frozen base encoder"))
    assert f"**{probe['threshold']['test']['at_threshold']['f1']:.4f}**" in row
    # The head minus its probe on the same test papers, with the paired interval.
    difference = row.split(" | ")[6]
    bold = [r["test"]["at_threshold"]["f1"] for r in (chosen["heads"]["CV"], probe["threshold"])]
    assert difference.startswith(f"{bold[0] - bold[1]:+.4f} [")


def test_the_experiment_card_tabulates_every_head_and_the_pooled_numbers(cards):
    from huggingface_hub import ModelCard

    metrics = json.loads((cards / "eval" / "metrics.json").read_text())
    card = ModelCard.load(cards / "cards" / "model" / "card.md")
    results = card.data.eval_results
    assert {(r.dataset_config, r.dataset_split) for r in results} == {
        (h, s) for h in HEADS for s in ("validation", "test")
    }
    assert card.data.to_dict()["pipeline_tag"] == "text-classification"
    text = card.text
    probe = json.loads((cards / "probe" / "probe.json").read_text())
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| Head |"))
    # A paired difference column for the probe; none for TF-IDF, whose predictions are not here.
    assert header.endswith(
        "| TF-IDF test F1 at its own threshold | This model minus the frozen probe, test F1 at "
        "own thresholds [95% interval] |"
    )
    for head in HEADS:
        row = next(line for line in lines if line.startswith(f"| {head} |"))
        assert row.count("|") == header.count("|") == 12
        assert f"| {metrics['heads'][head]['test']['f1']:.4f} |" in row
        frozen = probe["heads"][head]["threshold"]["test"]["at_threshold"]["f1"]
        assert row.split(" | ")[-3:-1] == [f"{frozen:.4f}", "n/a"]
        # The same difference and interval as the head's own card (the same resampled papers).
        head_card = (cards / "cards" / head / "card.md").read_text().splitlines()
        own = next(line for line in head_card if line.startswith("| frozen base encoder"))
        assert row.split(" | ")[-1] == own.split(" | ")[6] + " |"
    assert "resamples the test papers that both scored (a paired bootstrap)" in text
    assert "class-weighted logistic regression per head on its embeddings" in text
    assert "| validation, each head's own |" in text and "Macro F1" in text
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    compile(snippet, "snippet", "exec")


def test_the_baseline_fits_one_logistic_regression_per_head(run):
    from arxivcat.model.metrics import binary_metrics
    from arxivcat.model.train_baseline import train_baseline
    from arxivcat.report.drift import split_scores

    root, _, _ = run
    tables = {split: root / f"{split}.parquet" for split in ("train", "validation", "test")}
    out = root / "baseline.parquet"
    result = train_baseline(tables, root / "baseline.json", seed=1, predictions_path=out)
    assert set(result["heads"]) == set(HEADS) and "test" not in result
    written = split_scores(out, None)
    for head in HEADS:
        record = result["heads"][head]
        assert record["test"]["samples"] == 64
        assert 0 < record["threshold"]["threshold"] < 1
        _, labels, scores = split_scores(out, head)["test"]  # each head's own column
        assert binary_metrics(labels, scores) == record["test"]
    assert len(written["test"][0]) == 64 * len(HEADS)
    # The synthetic vocabularies separate both questions.
    assert result["heads"]["CV"]["threshold"]["test"]["at_threshold"]["f1"] > 0.9


@pytest.fixture(scope="module")
def folder(cards):
    from arxivcat.report.package_model import package_model

    root = cards
    package_model(
        root / "model", root / "cards" / "model" / "card.md", [root / "cards" / "model" /
        "card.png"], root / "threshold.json", root / "hub",
        {"name": "two", "labels": [], "dataset_config": "two", "max_length": 64,
         "heads": {"CV": ["cs.CV"], "other": ["math.NT"]}},
    )  # fmt: skip
    return root / "hub"


def _papers(root, rows=12):
    table = pq.read_table(root / "validation.parquet").slice(0, rows)
    path = root / "papers.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for row in table.select(["id", "title", "abstract"]).to_pylist():
            out.write(json.dumps(row) + "\n")
    return path, table


def test_predict_writes_a_probability_and_a_label_per_head_at_its_threshold(folder):
    from arxivcat.config import schema_defaults
    from arxivcat.predict.predict import predict_corpus
    from arxivcat.predict.settings import PredictSettings

    root = folder.parent
    papers, _ = _papers(root)
    settings = PredictSettings.from_dict({**schema_defaults("predict"), "corpora": {},
                                          "device": "cpu"})  # fmt: skip
    manifest = predict_corpus(folder, [papers], root / "scores.parquet", root / "store", settings,
                              manifest_path=root / "scores.json")  # fmt: skip
    table = pq.read_table(root / "scores.parquet")
    assert table.column_names == [
        "id", "probability:CV", "label:CV", "probability:other", "label:other"
    ]  # fmt: skip
    chosen = json.loads((root / "threshold.json").read_text())
    for head in HEADS:
        t = chosen["heads"][head]["threshold"]
        assert manifest["thresholds"][head] == t
        probability = np.array(table[f"probability:{head}"].to_pylist())
        assert (np.array(table[f"label:{head}"].to_pylist()) == (probability > t)).all()
        assert manifest["positives"][head] == int((probability > t).sum())
    info = json.loads((folder / "arxivcat.json").read_text())
    assert info["thresholds"] == {h: chosen["heads"][h]["threshold"] for h in HEADS}


def test_the_pipeline_gives_each_heads_sigmoid_as_predict_does(folder):
    from transformers import pipeline

    from arxivcat.predict.scoring import load_classifier_folder, score_papers

    root = folder.parent
    _, table = _papers(root, rows=5)
    titles, abstracts = table["title"].to_pylist(), table["abstract"].to_pylist()
    ours = score_papers(load_classifier_folder(folder, "cpu", "fp32"), titles, abstracts, 2)
    classifier = pipeline("text-classification", model=str(folder), truncation="only_second",
                          device="cpu")  # fmt: skip
    outputs = classifier(
        [{"text": t, "text_pair": a} for t, a in zip(titles, abstracts, strict=True)], top_k=None
    )
    theirs = np.array([[{r["label"]: r["score"] for r in out}[h] for h in HEADS]
                       for out in outputs])  # fmt: skip
    assert ours.shape == (5, 2) and np.abs(ours - theirs).max() < 1e-4


def test_joined_table_names_binary_and_multi_head_columns_apart(folder, tmp_path):
    from arxivcat.predict.join_predictions import join_predictions

    root = folder.parent
    multi = pq.read_table(root / "scores.parquet")
    binary = pa.table({"id": multi["id"], "probability": multi["probability:CV"],
                       "label": multi["label:CV"]})  # fmt: skip
    pq.write_table(binary, tmp_path / "cv.parquet")
    join_predictions({"cv-32": tmp_path / "cv.parquet", "two": root / "scores.parquet"},
                     tmp_path / "joined.parquet")  # fmt: skip
    joined = pq.read_table(tmp_path / "joined.parquet")
    assert joined.column_names == ["id", "cv-32", "two:CV", "two:other"]
    assert joined["two:other"].equals(multi["probability:other"])
