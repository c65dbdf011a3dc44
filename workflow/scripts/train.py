"""train: fine-tune the experiment's model, resuming from its last checkpoint if there is one."""

from arxivcat.io.runlog import setup_logging
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.train import train_model

setup_logging(snakemake.log[0])
train_model(
    dataset_dir=snakemake.input.dataset,
    output_dir=snakemake.output.model,
    checkpoint_dir=snakemake.params.checkpoints,
    settings=TrainingSettings.from_dict(snakemake.params.training),
    num_workers=snakemake.threads,
)
