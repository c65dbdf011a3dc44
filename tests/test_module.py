"""The workflow used as a module by a host workflow with its own config, as a deployed user runs it.

A host Snakefile in another folder names this workflow with `module arxivcat: snakefile: ...;
config: config` and `use rule * from arxivcat as arxivcat_*`.  Its config holds a 2x2 sweep of a
tiny BERT on synthetic records, so that one run shows both the module and the sweep:

- from git: `github("owner/arxivcat", path="workflow/Snakefile", tag=...)`, with git told to
  fetch github.com from a local bare repository of this checkout (`url.<base>.insteadOf`), builds
  the four cards and the summary; every job imported the package fetched from that repository,
  not this checkout (nor the copy installed in this environment);
- from a local path: the same host, now through `workflow/Snakefile` of this checkout, retrains
  one experiment and writes its card again, its jobs importing the checkout's package.

(`gitfile(...)`, a local clone, is not usable here: Snakemake 9.27 fails on its rules' scripts.)
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arxivcat import __version__, layout

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
TAG = f"v{__version__}"
CONFIG = {
    "snapshot": {"source": "synthetic:600"},
    "splits": {"reference": {"min_year": 2015}},
    "training": {
        "model": "builtin:tiny-bert",
        "max_length": 32,
        "train_batch_size": 16,
        "eval_batch_size": 64,
        "device": "cpu",
    },
    "experiments": {
        "ai": {
            "labels": ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML"],
            "grid": {"learning_rate": [1.0e-3, 3.0e-3], "num_epochs": [1, 2]},
        }
    },
}
HOST = """configfile: "config.yaml"


module arxivcat:
    snakefile:
        {source}
    config:
        config


use rule * from arxivcat as arxivcat_*
"""


def run(host: Path, *args: str, env: dict[str, str] | None = None) -> str:
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        command, cwd=host, env=environment | (env or {}), capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def bare_repository(root: Path) -> Path:
    """A bare repository of this checkout's files (committed or not), tagged :data:`TAG`."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    work = root / "work"
    for name in filter(None, files):
        source, target = REPO / name, work / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            target.write_bytes(source.read_bytes())
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=work, check=True)
    subprocess.run([*git, "tag", TAG], cwd=work, check=True)
    bare = root / "github" / "owner" / "arxivcat"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def job_packages(logs: Path) -> set[str]:
    """The package folders the job logs under ``logs`` say they imported."""
    found = set()
    for log in logs.rglob("*.log"):
        found |= set(re.findall(r"arxivcat \S+ from (\S+)", log.read_text(encoding="utf-8")))
    return found


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> tuple[Path, str]:
    """A host workflow that ran the module from git: its folder and Snakemake's output."""
    root = tmp_path_factory.mktemp("module")
    bare_repository(root)
    host = root / "host"
    host.mkdir()
    (host / "config.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    source = f'github("owner/arxivcat", path="workflow/Snakefile", tag="{TAG}")'
    (host / "Snakefile").write_text(HOST.format(source=source), encoding="utf-8")
    git_redirect = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{(root / 'github').as_uri()}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
        "XDG_CACHE_HOME": str(root / "cache"),  # Snakemake's source cache
    }
    output = run(host, "arxivcat_all", env=git_redirect)
    return host, output


def test_module_from_git_builds_the_sweeps_cards_and_summary(host):
    host, output = host
    assert "Cloning github.com/owner/arxivcat" in output
    names = [f"ai.learning_rate-{rate}.num_epochs-{epochs}" for rate in ("0.001", "0.003")
             for epochs in (1, 2)]  # fmt: skip
    for name in names:
        assert (host / layout.CARD.format(experiment=name)).is_file(), name
    table = list(csv.DictReader((host / layout.SUMMARY_CSV).open(encoding="utf-8")))
    assert [row["experiment"] for row in table] == names
    assert {row["learning_rate"] for row in table} == {"0.001", "0.003"}
    assert {row["num_epochs"] for row in table} == {"1", "2"}
    assert {row["sweep"] for row in table} == {"ai"}
    best = [row for row in table if row["best_of_sweep"] == "True"]
    assert len(best) == 1
    assert float(best[0]["validation_f1"]) == max(float(row["validation_f1"]) for row in table)
    summary = (host / layout.SUMMARY).read_text(encoding="utf-8")
    assert "| Experiment | Sweep | learning_rate | num_epochs |" in summary
    assert f"| {best[0]['experiment']} | ai **best** |" in summary


def test_jobs_of_the_git_module_import_the_package_fetched_from_git(host):
    host, _ = host
    packages = job_packages(host / "results" / "logs")
    assert packages and all("arxivcat-package-" in folder for folder in packages), packages


def test_module_from_a_local_path_builds_a_card(host):
    """The same host through this checkout's workflow/Snakefile: one experiment retrained."""
    host, _ = host
    source = repr(str(REPO / "workflow" / "Snakefile"))
    (host / "Snakefile").write_text(HOST.format(source=source), encoding="utf-8")
    name = "ai.learning_rate-0.003.num_epochs-1"
    card = host / layout.CARD.format(experiment=name)
    before = card.stat().st_mtime_ns
    run(host, "--forcerun", "arxivcat_train", "--", str(card.relative_to(host)))
    assert card.stat().st_mtime_ns > before
    for rule in ("train", "evaluate", "write_card"):
        log = (host / layout.log(rule, name)).read_text(encoding="utf-8")
        assert f"from {REPO / 'workflow' / 'arxivcat'}\n" in log, rule
