"""The conda environments of envs/: files that build as Snakemake copies them, one per rule, and
the container image and apptainer plan made of them.

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


def snakemake(
    workdir: Path,
    conda_root: Path,
    *args: str,
    conda: bool = True,
    stderr: bool = True,
    env: dict[str, str] | None = None,
) -> str:
    """Run the repository's workflow in ``workdir`` (with conda deployment unless ``conda`` is
    false) and no PYTHONPATH; return its output (stdout alone when ``stderr`` is false)."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment |= {**install(conda_root), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
        *(["--software-deployment-method", "conda"] if conda else []),
        "--workflow-profile", "none", "--cores", "2", *args,
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=workdir, env=environment | (env or {}), capture_output=True, text=True,
        timeout=1800, check=False,
    )  # fmt: skip
    output = result.stdout + (result.stderr if stderr else "")
    assert result.returncode == 0, f"snakemake {args} failed:\n{(output + result.stderr)[-6000:]}"
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


def test_every_rule_has_a_fixed_env_and_model_jobs_take_the_cuda_one(tmp_path):
    """Whatever the device: an env given by a function could not go into a container image."""
    tiny_config(tmp_path, tmp_path / "arxiv.jsonl", "tpu")
    target = layout.PREDICTIONS.format(corpus="arxiv", experiment="cv-32")
    output = snakemake(tmp_path, tmp_path / "conda", "--dry-run", target)
    created = set(re.findall(r"Conda environment \S*/envs/([\w.-]+) will be created", output))
    # The CUDA build runs on CPU too; TPU VMs activate envs/train-tpu.yaml themselves.
    assert created == {"data.yaml", "train-gpu.yaml"}


def test_containerize_writes_a_dockerfile_with_every_env(tmp_path):
    tiny_config(tmp_path, tmp_path / "arxiv.jsonl", "cpu")
    dockerfile = snakemake(tmp_path, tmp_path / "conda", "--containerize", stderr=False)
    assert dockerfile.startswith("FROM condaforge/miniforge3")
    assert 'LABEL io.github.snakemake.containerized="true"' in dockerfile
    sources = re.findall(r"^COPY (\S+) (/conda-envs/\w+/environment\.yaml)$", dockerfile, re.M)
    # Paths relative to the working directory: run it in the checkout's root to build there.
    assert sorted((tmp_path / source).resolve() for source, _ in sources) == [
        REPO / "envs" / "data.yaml",
        REPO / "envs" / "train-gpu.yaml",
    ]
    for _, target in sources:
        prefix = target.removesuffix("/environment.yaml")
        assert f"conda env create --prefix {prefix} --file {target}" in dockerfile


def test_container_runs_every_job_under_apptainer(tmp_path):
    """The plan of --sdm apptainer (a stand-in apptainer answers its version; nothing is pulled)."""
    tiny_config(tmp_path, tmp_path / "arxiv.jsonl", "cpu")
    apptainer = tmp_path / "bin" / "apptainer"
    apptainer.parent.mkdir()
    apptainer.write_text('#!/bin/sh\necho "apptainer version 1.3.4"\n', encoding="utf-8")
    apptainer.chmod(0o755)
    path = {"PATH": f"{apptainer.parent}{os.pathsep}{os.environ['PATH']}"}
    card = layout.CARD.format(experiment="cv-32")
    image = "docker://ghcr.io/example/arxivcat:0.2.0"
    args = ("--dry-run", "--sdm", "apptainer", "--config", f"container={image}", "--", card)
    output = snakemake(tmp_path, tmp_path / "conda", *args, conda=False, env=path)
    assert f"Singularity image {image} will be pulled." in output
    assert "train" in output and "write_card" in output
    # Without the config key no job runs in a container.
    output = snakemake(tmp_path, tmp_path / "conda", *args[:3], "--", card, conda=False, env=path)
    assert "Singularity image" not in output


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
