"""Snakemake through profiles/slurm on a real single-node SLURM cluster (127.0.0.1, fake GPUs).

The cluster (tests/slurm_cluster.py) is installed with apt-get when missing, brought up once for
this module, and every daemon is stopped by PID afterwards.  Where it cannot run (not root, no
apt-get, a daemon that does not start) the tests skip with the reason.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from slurm_cluster import GPU_TYPE, ClusterUnavailable, SlurmCluster
from workflow_runner import write_real_snapshot

from arxivcat import layout

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm"
# Test overrides of the profile: a node with few cores and little memory, no slurmdbd here
# (squeue reports status; MinJobAge keeps finished jobs visible), no accounts, quick first status
# checks.  A job asking for more than the node has would stay PENDING forever.
TEST_OVERRIDES = (
    "--default-resources", "cpus_per_task=1", "mem_mb=500", "runtime=10",
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "1",
    "--slurm-no-account",
    "--slurm-keep-successful-logs",
    "--latency-wait", "5",
    "--retries", "0",
)  # fmt: skip


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A running SLURM cluster; skips with the reason where it cannot be brought up."""
    slurm = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
    except ClusterUnavailable as reason:
        pytest.skip(f"no test SLURM cluster: {reason}")
    pids = slurm.pids()
    # A plain SIGTERM would end pytest without teardown and leave the daemons running.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield slurm
    finally:
        signal.signal(signal.SIGTERM, previous)
        slurm.stop()
    still = [name for name, pid in pids.items() if Path(f"/proc/{pid}").exists()]
    assert not still, f"SLURM daemons still running after stop(): {still}"
    assert not Path("/etc/slurm/slurm.conf").is_symlink() or os.readlink(
        "/etc/slurm/slurm.conf"
    ) != str(slurm.conf)


def run_snakemake(
    cluster: SlurmCluster, workdir: Path, *args: str, timeout_s: int = 240
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake with the SLURM profile, killed by ``timeout -k`` if it hangs."""
    command = [
        "timeout", "-k", "10", str(timeout_s),
        sys.executable, "-m", "snakemake",
        "--profile", str(PROFILE), "--workflow-profile", "none",
        "--directory", str(workdir), *TEST_OVERRIDES, *args,
    ]  # fmt: skip
    env = {**cluster.env, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate()
    finally:
        # Interrupted tests must not leave Snakemake (which ignores SIGTERM) behind.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    # The plugin ignores SIGTERM, so `timeout` ends it with SIGKILL (137) after the grace period.
    timed_out = result.returncode in (124, 137) or time.monotonic() - started >= timeout_s
    assert not timed_out, f"snakemake timed out after {timeout_s} s:\n{result.stderr[-4000:]}"
    return result


TOY = """
rule all:
    input:
        "gpu.txt",
        "cpu.txt",
        "fails.txt",


rule on_gpu:
    output:
        "gpu.txt",
    resources:
        gpu=1,
        gpu_model="@GPU_TYPE@",
        cpus_per_task=1,
        mem_mb=200,
        runtime=5,
    shell:
        "echo job=$SLURM_JOB_ID cuda=$CUDA_VISIBLE_DEVICES > {output}"


rule on_cpu:
    output:
        "cpu.txt",
    resources:
        mem_mb=200,
        runtime=5,
    shell:
        "echo job=$SLURM_JOB_ID cuda=${{CUDA_VISIBLE_DEVICES:-none}} > {output}"


rule fails:
    output:
        "fails.txt",
    resources:
        mem_mb=200,
        runtime=5,
    shell:
        "echo about to fail >&2; exit 3"
"""


def test_toy_workflow_goes_through_sbatch_with_gpus_and_reports_failure(cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(textwrap.dedent(TOY).replace("@GPU_TYPE@", GPU_TYPE))
    snakefile = str(tmp_path / "Snakefile")
    result = run_snakemake(cluster, tmp_path, "--snakefile", snakefile, timeout_s=120)
    log = result.stderr

    # The failing job fails the run, and Snakemake names the rule and its SLURM job.
    assert result.returncode != 0, log[-3000:]
    assert "Error in rule fails" in log, log[-3000:]
    assert not (tmp_path / "fails.txt").exists()

    # Both other jobs ran inside SLURM; only the GPU job got a (fake) GPU assigned by slurmd.
    gpu = dict(pair.split("=", 1) for pair in (tmp_path / "gpu.txt").read_text().split())
    cpu = dict(pair.split("=", 1) for pair in (tmp_path / "cpu.txt").read_text().split())
    assert gpu["job"].isdigit() and cpu["job"].isdigit() and gpu["job"] != cpu["job"]
    assert gpu["cuda"] == "0"
    assert cpu["cuda"] == "none"

    # slurmctld's own record: what sbatch asked for, and how each job ended.
    jobs = {job["Comment"]: job for job in cluster.jobs()}
    assert jobs["rule_on_gpu"]["TresPerJob"] == f"gres:gpu:{GPU_TYPE}:1", jobs["rule_on_gpu"]
    assert "TresPerJob" not in jobs["rule_on_cpu"] or "gpu" not in jobs["rule_on_cpu"]["TresPerJob"]
    assert jobs["rule_on_gpu"]["JobState"] == "COMPLETED"
    assert jobs["rule_fails"]["JobState"] == "FAILED"
    failed = jobs["rule_fails"]["JobId"]
    assert failed in log
    # The failed job's SLURM log is kept and holds the command's own error output.
    slurm_log = tmp_path / ".snakemake" / "slurm_logs" / "rule_fails" / f"{failed}.log"
    assert "about to fail" in slurm_log.read_text()


def tiny_experiment(shared: Path, workdir: Path) -> dict:
    """Config of one tiny experiment on the real records, with requests the test node can meet."""
    snapshot = write_real_snapshot(shared, workdir / "inputs" / "arxiv.jsonl")
    small = {"cpus_per_task": 1, "mem_mb": 2000, "runtime": 15}
    return {
        "snapshot": {"source": str(snapshot)},
        "splits": {"reference": {"min_year": 2007}},
        # device auto: the job asks SLURM for a GPU and trains on what torch finds (CPU here).
        "training": {
            "model": "builtin:tiny-bert",
            "max_length": 64,
            "num_epochs": 1,
            "learning_rate": 1e-3,
            "device": "auto",
        },
        "resources": {
            "train": small,
            "evaluate": {**small, "gpu_model": GPU_TYPE},
            "embed": {**small, "gpu_model": GPU_TYPE},  # the probe's embedding of the split
        },
        # The GPU type of training comes from the experiment's own override.
        "experiments": {"cv-32": {"resources": {"train": {"gpu_model": GPU_TYPE}}}},
    }


def test_tiny_experiment_end_to_end_through_slurm(cluster, tmp_path, shared):
    config = tiny_experiment(shared, tmp_path)
    (tmp_path / "test-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    earlier = {job["JobId"] for job in cluster.jobs()}
    result = run_snakemake(
        cluster,
        tmp_path,
        "--snakefile", str(REPO / "Snakefile"),
        "--configfile", str(REPO / "config" / "config.yaml"), str(tmp_path / "test-config.yaml"),
        "--", layout.CARD.format(experiment="cv-32"),
        timeout_s=420,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-6000:]
    card = tmp_path / layout.CARD.format(experiment="cv-32")
    assert card.is_file() and "cv-32" in card.read_text(encoding="utf-8")

    jobs = [job for job in cluster.jobs() if job["JobId"] not in earlier]
    submitted = {job["Comment"].split("_wildcards_")[0].removeprefix("rule_"): job for job in jobs}
    # Everything but the local rules went through sbatch, and every SLURM job completed.
    assert {"assign_splits", "label_splits", "tokenize", "train", "evaluate", "embed"} <= set(
        submitted
    )
    assert not {"download_snapshot", "write_card"} & set(submitted), sorted(submitted)
    assert all(job["JobState"] == "COMPLETED" for job in jobs), [
        (job["Comment"], job["JobState"]) for job in jobs
    ]
    # Training and evaluation asked for one GPU of the configured type; the data stages for none.
    assert submitted["train"]["TresPerJob"] == f"gres:gpu:{GPU_TYPE}:1"
    assert submitted["evaluate"]["TresPerJob"] == f"gres:gpu:{GPU_TYPE}:1"
    assert submitted["embed"]["TresPerJob"] == f"gres:gpu:{GPU_TYPE}:1"
    assert "gpu" not in submitted["tokenize"].get("TresPerJob", "")
    assert submitted["train"]["NumCPUs"] == "1"
    # slurmd gave the training job its (fake) GPU; the CPU build of torch then trained on the CPU.
    model = tmp_path / layout.MODEL.format(experiment="cv-32")
    info = json.loads((model / "training_info.json").read_text())
    assert info["device"].startswith("cpu"), info["device"]
