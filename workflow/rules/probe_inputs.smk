# Input and params functions of the probe stages (rules in probe.smk).


wildcard_constraints:
    encoder=r"[^/]+",


def _encoder_settings(experiment):
    """The encoder settings of an experiment's embedding: its model and token budget."""
    return {
        "model": experiment.training["model"],
        "max_length": experiment.training["max_length"],
    }


def _encoders():
    """Every embedding's encoder key -> its settings, and the experiments on each split using it.

    (Config validation refuses two models whose keys coincide.)
    """
    encoders, users = {}, {}
    for name in EXPERIMENTS:
        experiment = get_experiment(config, name)
        settings = _encoder_settings(experiment)
        key = layout.encoder_key(**settings)
        encoders[key] = settings
        users.setdefault((experiment.split, key), []).append(experiment)
    return encoders, users


ENCODERS, EMBEDDING_USERS = _encoders()


def encoder_of(wildcards):
    """The model and max_length named by the embedding's ``{encoder}`` wildcard."""
    if (wildcards.split, wildcards.encoder) not in EMBEDDING_USERS:
        raise WorkflowError(
            f"no experiment embeds split {wildcards.split!r} with encoder "
            f"{wildcards.encoder!r}; encoders in config: {', '.join(ENCODERS)}"
        )
    return ENCODERS[wildcards.encoder]


def weak_negative_encoder_of(wildcards):
    """The model and max_length of the weak-negative pool's ``{encoder}`` wildcard."""
    users = EMBEDDING_USERS.items()
    if not any(k == wildcards.encoder and any(e.weak_negatives for e in u) for (_, k), u in users):
        raise WorkflowError(
            f"no experiment with weak negatives embeds them with encoder {wildcards.encoder!r}; "
            f"encoders in config: {', '.join(ENCODERS)}"
        )
    return ENCODERS[wildcards.encoder]


def embedding_of(wildcards):
    """The embeddings an experiment's probe reads, by its encoder: its split's and, when it adds
    weak negatives, the pool's (``weak_embeddings``, ``weak_manifest``)."""
    experiment = experiment_of(wildcards)
    key = layout.encoder_key(**_encoder_settings(experiment))
    paths = {
        name: pattern.format(split=experiment.split, encoder=key)
        for name, pattern in rules.embed.output.items()
    }
    if experiment.weak_negatives > 0:
        weak = rules.embed_weak_negatives.output
        paths["weak_embeddings"] = weak.embeddings.format(encoder=key)
        paths["weak_manifest"] = weak.manifest.format(encoder=key)
    return paths


def embed_gpus_of(wildcards):
    """GPUs an embed job takes: one, none when embed runs on CPU or TPU."""
    return 0 if config["embed"]["device"] in ("cpu", "tpu") else 1


def embed_resource_of(key):
    """A resource function of the embed jobs: the schema's default < resources.embed."""

    def resource(wildcards):
        defaults = SCHEMA["properties"]["resources"]["properties"]["embed"]["default"]
        return {**defaults, **config["resources"].get("embed", {})}[key]

    resource.__name__ = f"embed_{key}"
    return resource
