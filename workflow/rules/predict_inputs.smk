# Input and params functions of the predict stage (rules in predict.smk).
from arxivcat.io.sources import source_files
from arxivcat.predict.settings import CORPUS_SUFFIXES


wildcard_constraints:
    corpus=r"[^/]+",


def predict_source_of(wildcards):
    """The source of the corpus named by the wildcard."""
    corpora = config["predict"]["corpora"]
    if wildcards.corpus not in corpora:
        raise WorkflowError(
            f"unknown corpus {wildcards.corpus!r}; predict.corpora: {', '.join(corpora) or 'none'}"
        )
    return corpora[wildcards.corpus]


def predict_corpus_of(wildcards):
    """A corpus's files (always a list): the downloaded corpus (by digest), the harvest, or local
    files."""
    source = predict_source_of(wildcards)
    if source == "arxiv":
        return {
            "corpus": [ancient("results/data/arxiv.parquet")],
            "corpus_digest": "results/data/arxiv.sha256",
        }
    if source == "oai":
        return {"corpus": ["results/data/oai_harvest.parquet"]}
    setting = f"predict.corpora.{wildcards.corpus}"
    files = source_files(source, CORPUS_SUFFIXES, error=WorkflowError, setting=setting)
    return {"corpus": [str(path) for path in files]}


def predict_settings_of(wildcards):
    """The predict settings of one corpus (other corpora's sources are not its rerun trigger)."""
    corpora = {wildcards.corpus: predict_source_of(wildcards)}
    return {**config["predict"], "corpora": corpora}


def predict_gpus_of(wildcards):
    """GPUs a prediction job takes: predict.gpus, none when predict runs on CPU or TPU."""
    predict = config["predict"]
    return 0 if predict["device"] in ("cpu", "tpu") else predict["gpus"]


def package_facts_of(wildcards):
    """What the model folder records of its experiment."""
    experiment = experiment_of(wildcards)
    return {
        "name": experiment.name,
        "labels": list(experiment.labels),
        "dataset_config": experiment.dataset_config,
        "max_length": experiment.training["max_length"],
        "heads": experiment.labelling()["heads"],
    }
