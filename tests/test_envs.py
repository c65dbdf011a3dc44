"""The conda environments of envs/: files that build as Snakemake copies them, chosen by device.

Every env file is parsed and checked here.  conda itself cannot be installed on this machine, so
Snakemake's own conda deployment runs against `tests/fake_conda.py` (see there what it does and
does not show).  Building the data env (a fresh venv with its pip part, CPU torch) and running
the data stages in it takes minutes: that test is marked ``envs`` and run by `make test-envs`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from fake_conda import calls, install
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from workflow_runner import write_real_snapshot

from arxivcat import layout

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
#: pip options an env's pip list may hold, each on its own line with one URL.
INDEX_OPTIONS = ("--index-url", "--extra-index-url", "--find-links")
#: Not needed in a job's env: Snakemake runs there from the main process's installation.
NOT_IN_JOB_ENVS = {"snakemake"}
#: The stage modules of rules that run in the data env.
DATA_STAGES = (
    "arxivcat.data.download_snapshot",
    "arxivcat.data.harvest_oai",
    "arxivcat.negatives.prepare_weak_negatives",
    "arxivcat.splits.assign_splits",
    "arxivcat.splits.label_splits",
    "arxivcat.model.tokenize",
    "arxivcat.model.train_baseline",
    "arxivcat.report.write_card",
    "arxivcat.report.summarize",
)


def pip_part(env_file: Path) -> list[str]:
    """The pip entries of an env file."""
    spec = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    (pip,) = [entry["pip"] for entry in spec["dependencies"] if isinstance(entry, dict)]
    return pip


def requirements(env_file: Path) -> dict[str, Requirement]:
    """The requirements of an env file's pip part, by canonical name (options left out)."""
    found = {}
    for line in pip_part(env_file):
        if not line.startswith("-"):
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def pins(path: Path) -> dict[str, str]:
    """The exact pins (`name==version`) of a requirements file, by canonical name."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if match:
            found[canonicalize_name(Requirement(match[1]).name)] = match[2]
    return found


def test_there_is_an_env_per_kind_of_job():
    assert [path.name for path in ENVS] == ["data.yaml", "train-gpu.yaml", "train-tpu.yaml"]


@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.name)
def test_env_file_builds_as_a_copy(env_file):
    spec = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    assert spec["channels"] == ["conda-forge", "nodefaults"]
    assert "python=3.11" in spec["dependencies"] and "pip" in spec["dependencies"]
    for line in pip_part(env_file):
        if line.startswith("-"):
            # An option stands alone on its line: pip ignores one on a requirement's line.
            option, *values = line.split()
            assert option in INDEX_OPTIONS and len(values) == 1, line
            assert values[0].startswith("https://"), line
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            pytest.fail(f"{env_file.name}: {line!r} is not a requirement: {error}")
        # No path (a relative one breaks once Snakemake copies the file) and an exact pin.
        assert requirement.url is None and "/" not in line, line
        assert str(requirement.specifier).startswith("=="), line


@pytest.mark.parametrize("env_file", ENVS, ids=lambda path: path.name)
def test_env_holds_every_package_dependency_pinned_as_in_the_requirements(env_file):
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    have = requirements(env_file)
    assert needed - NOT_IN_JOB_ENVS <= set(have)
    assert not NOT_IN_JOB_ENVS & set(have)
    expected = pins(REPO / "requirements" / "ci.txt")
    if env_file.name == "train-tpu.yaml":
        expected |= pins(REPO / "requirements" / "xla.txt")
        assert "torch-xla" in have
    for name, requirement in have.items():
        if name in expected:
            assert str(requirement.specifier) == f"=={expected[name]}", name


def test_cuda_and_cpu_torch_come_from_their_own_index():
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip_part(
        REPO / "envs/data.yaml"
    )
    gpu = pip_part(REPO / "envs" / "train-gpu.yaml")
    assert "--extra-index-url https://download.pytorch.org/whl/cu128" in gpu


def snakemake(workdir: Path, conda_root: Path, *args: str) -> str:
    """Run the repository's workflow in ``workdir`` with conda deployment and no PYTHONPATH."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env |= {**install(conda_root), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
        "--software-deployment-method", "conda", "--workflow-profile", "none", "--cores", "2",
        *args,
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"snakemake {args} failed:\n{output[-6000:]}"
    return output


def tiny_config(workdir: Path, snapshot: Path, device: str) -> None:
    """Write a one-experiment config on the real records for ``device``."""
    config = {
        "snapshot": {"source": str(snapshot)},
        "splits": {"reference": {"min_year": 2007}},
        "training": {"model": "builtin:tiny-bert", "max_length": 32, "device": device},
        "experiments": {"cv-32": {"labels": ["cs.CV"]}},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.mark.parametrize(
    ("device", "model_env"), [("tpu", "train-tpu.yaml"), ("cuda", "train-gpu.yaml")]
)
def test_train_and_evaluate_take_the_env_of_their_device(tmp_path, device, model_env):
    tiny_config(tmp_path, tmp_path / "arxiv.jsonl", device)
    target = layout.EVAL_METRICS.format(experiment="cv-32")
    output = snakemake(tmp_path, tmp_path / "conda", "--dry-run", target)
    created = set(re.findall(r"Conda environment \S*/envs/([\w.-]+) will be created", output))
    # evaluate runs in the env train runs in: no other model env is planned.
    assert created == {"data.yaml", model_env}


@pytest.mark.parametrize(
    ("device", "model_env"), [("tpu", "train-tpu.yaml"), ("cuda", "train-gpu.yaml")]
)
def test_predict_takes_the_env_of_the_predict_device(tmp_path, device, model_env):
    tiny_config(tmp_path, tmp_path / "arxiv.jsonl", "cpu")
    config = yaml.safe_load((tmp_path / "config.yaml").read_text(encoding="utf-8"))
    config["predict"] = {"device": device}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    target = layout.PREDICTIONS.format(corpus="arxiv", experiment="cv-32")
    output = snakemake(tmp_path, tmp_path / "conda", "--dry-run", target)
    created = set(re.findall(r"Conda environment \S*/envs/([\w.-]+) will be created", output))
    # cpu training runs in the CUDA env (it runs on CPU too); predict follows predict.device.
    assert created == {"data.yaml", "train-gpu.yaml", model_env}


@pytest.mark.envs
def test_data_stages_run_in_the_data_env_built_from_its_copy(shared, tmp_path):
    snapshot = write_real_snapshot(shared, tmp_path / "arxiv.jsonl")
    workdir = tmp_path / "work"
    workdir.mkdir()
    tiny_config(workdir, snapshot, "cpu")
    conda = tmp_path / "conda"
    targets = [
        pattern.format(experiment="cv-32")
        for pattern in (layout.TOKENIZED, layout.BASELINE_METRICS)
    ]
    snakemake(workdir, conda, *targets)
    answered = calls(conda)
    (created,) = [line for line in answered if line.startswith("conda env create")]
    env_file = Path(created.split("--file ")[1].split()[0].strip('"'))
    assert env_file.parent == workdir / ".snakemake" / "conda"
    env_dir = Path(str(env_file).removesuffix(".yaml"))
    # Every job ran in it: download, assign and label splits, tokenize, baseline; each activates
    # it twice (Snakemake first asks the env's Python for its version, then runs the script).
    assert answered.count(f"activate {env_dir}") == 2 * 5, answered
    assert (workdir / targets[0]).is_dir()
    # Nothing of the data stages needs more than the env: isolated from this environment (-I),
    # with only the workflow's package added, every module they run imports (from files: torch's
    # `_classes` and `_ops` pseudo-modules name no file).
    check = (
        f"import importlib, os, sys; sys.path.insert(0, {str(REPO / 'workflow')!r}); "
        f"[importlib.import_module(name) for name in {list(DATA_STAGES)!r}]; "
        "outside = sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())}"
        " - {''}); outside = [f for f in outside if os.path.isabs(f)]; "
        f"print([f for f in outside if not f.startswith(({str(env_dir)!r}, "
        f"{str(REPO / 'workflow')!r}, sys.base_prefix))])"
    )
    result = subprocess.run(
        [str(env_dir / "bin" / "python"), "-I", "-c", check],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"
