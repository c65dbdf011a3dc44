"""Running the real Snakemake workflow in a scratch working directory, for end-to-end tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def default_config() -> dict:
    """The shipped config/config.yaml, as written."""
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))


def write_real_snapshot(shared: Path, snapshot: Path) -> Path:
    """Concatenate the real arXiv records of ``shared/data/arxiv`` into one JSON-lines snapshot."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    with open(snapshot, "w", encoding="utf-8") as out:
        for path in sorted((shared / "data" / "arxiv").glob("*.jsonl")):
            text = path.read_text(encoding="utf-8")
            out.write(text if text.endswith("\n") else text + "\n")
    return snapshot


def snakemake(
    workdir: Path,
    *args: str,
    config: dict | None = None,
    layered: bool = True,
    check: bool = True,
    timeout: int = 900,
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake on the repository's Snakefile with ``workdir`` as working directory.

    ``config`` is written to ``workdir/test-config.yaml``; it is layered over config/config.yaml,
    or with ``layered=False`` it replaces it (so that it can hold fewer experiments).
    """
    command = [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += ["--cores", "2", "--configfile"]
    if layered or config is None:
        command += [str(REPO / "config" / "config.yaml")]
    if config is not None:
        path = workdir / "test-config.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        command += [str(path)]
    command += [*args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-6000:]}"
        )
    return result


def dry_run_jobs(text: str) -> set[tuple[str, str]]:
    """The (rule, wildcards) pairs of the jobs a ``--dry-run``'s output lists."""
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", text):
        header = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        if header:
            wildcards = re.search(r"^\s+wildcards: (.+)$", block, re.MULTILINE)
            jobs.add((header.group(1), wildcards.group(1).strip() if wildcards else ""))
    return jobs


def planned_jobs(
    workdir: Path, *targets: str, config: dict | None = None, layered: bool = True
) -> dict[str, int]:
    """Return {rule: job count} of what a dry run of ``targets`` would execute."""
    result = snakemake(
        workdir, "--dry-run", "--quiet", "rules", "--", *targets, config=config, layered=layered
    )
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return jobs
