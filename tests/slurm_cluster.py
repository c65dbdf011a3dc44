"""A real single-node SLURM cluster on 127.0.0.1 for tests: install, bring up, tear down.

Debian's ``slurmctld``/``slurmd``/``munge`` (installed with apt-get when missing and possible) run
as root with a configuration of their own in a scratch directory: a private munge key and socket,
``SlurmctldHost=<short hostname>(127.0.0.1)``, process tracking without cgroups, and two fake
``tesla`` GPUs whose device files are character devices (SLURM rejects plain files).  Every daemon
runs in the foreground as a child of this process and is stopped by its PID.

Only one cluster can run at a time (the ports 6817/6818 are fixed), so :meth:`SlurmCluster.start`
holds an exclusive lock on ``/tmp/arxivcat-slurm.lock`` until :meth:`SlurmCluster.stop`; a second
pytest worker waits for it.

The plugin's job step strips ``SLURM_CONF`` before its inner ``srun``, so the configuration is also
linked at ``/etc/slurm/slurm.conf`` while the cluster runs (a real file there is never replaced).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
PROGRAMS = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "munged", "munge")
PORTS = (6817, 6818)
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
LOCK_FILE = Path("/tmp/arxivcat-slurm.lock")
GPU_TYPE = "tesla"


class ClusterUnavailable(RuntimeError):
    """SLURM cannot run here; the message says why in one paragraph (a test skip reason)."""


def _tail(path: Path, lines: int = 15) -> str:
    if not path.is_file():
        return f"({path.name} absent)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return " | ".join(text[-lines:])


def install_slurm(timeout_s: int = 600) -> None:
    """Install the Debian SLURM and munge packages when any program is missing.

    Raises:
        ClusterUnavailable: If not root, there is no apt-get, or the installation fails.
    """
    missing = [program for program in PROGRAMS if shutil.which(program) is None]
    if os.geteuid() != 0:
        raise ClusterUnavailable("not root: the test SLURM cluster runs its daemons as root")
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable(f"SLURM programs {missing} are missing and there is no apt-get")
    logger.info("installing %s with apt-get (missing: %s)", " ".join(PACKAGES), missing)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        try:
            result = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ClusterUnavailable(f"{' '.join(command)} took over {timeout_s} s") from None
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).splitlines()[-8:])
            raise ClusterUnavailable(f"{' '.join(command)} failed ({result.returncode}): {tail}")
    still = [program for program in PROGRAMS if shutil.which(program) is None]
    if still:
        raise ClusterUnavailable(f"apt-get installed {PACKAGES} but {still} are still missing")


def _total_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 4000


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class SlurmCluster:
    """One slurmctld + one slurmd (with ``gpus`` fake GPUs) + munged, rooted in ``root``.

    Use as a context manager; :attr:`env` is the environment for SLURM clients and Snakemake.
    """

    def __init__(self, root: Path, gpus: int = 2, memory_mb: int | None = None) -> None:
        self.root = Path(root)
        self.gpus = gpus
        # The machine's memory (as slurmd measures it, less a margin): rules' own requests fit.
        self.memory_mb = memory_mb or int(_total_memory_mb() * 0.9)
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.root / "etc" / "slurm.conf"
        self.logs = self.root / "log"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock: IO[str] | None = None
        self._linked_conf = False
        self._previous_link: str | None = None

    # -- configuration ---------------------------------------------------------------------------

    def _write_munge_key(self) -> Path:
        munge = self.root / "munge"
        munge.mkdir(mode=0o700, parents=True)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        return munge

    def _write_config(self) -> None:
        etc = self.conf.parent
        for directory in (
            etc,
            self.logs,
            self.root / "state",
            self.root / "spool",
            self.root / "dev",
        ):
            directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        devices = []
        for index in range(self.gpus):
            device = self.root / "dev" / f"nvidia{index}"
            # Character devices (the numbers of /dev/null): SLURM's gres plugin rejects plain files.
            os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))
            devices.append(device)
        cpus = os.cpu_count() or 1
        lines = [
            "ClusterName=arxivcat-test",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.root / 'munge' / 'munge.socket.2'}",
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.root / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.logs / 'slurmctld.log'}",
            f"SlurmdLogFile={self.logs / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            # Finished jobs stay visible to squeue (the status command without slurmdbd).
            "MinJobAge=300",
            "DefMemPerCPU=100",
            "MailProg=/bin/true",
            "ReturnToService=2",
            "SchedulerParameters=sched_interval=2",
            "GresTypes=gpu",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={self.memory_mb} "
            f"Gres=gpu:{GPU_TYPE}:{self.gpus} State=UNKNOWN",
            f"PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        gres = [f"Name=gpu Type={GPU_TYPE} File={device}" for device in devices]
        (etc / "gres.conf").write_text("\n".join(gres) + "\n", encoding="utf-8")

    def _link_system_conf(self) -> None:
        if SYSTEM_CONF.is_symlink():
            self._previous_link = os.readlink(SYSTEM_CONF)
            SYSTEM_CONF.unlink()
        elif SYSTEM_CONF.exists():
            raise ClusterUnavailable(
                f"{SYSTEM_CONF} is a real SLURM configuration; the test cluster will not replace it"
            )
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)
        self._linked_conf = True

    # -- daemons ---------------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str]) -> None:
        out = open(self.logs / f"{name}.stdout", "wb")  # noqa: SIM115 - closed with the process
        self._processes[name] = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        out.close()

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                log = self.logs / (f"{name}.log" if name != "munged" else "munged.log")
                raise ClusterUnavailable(
                    f"{name} exited with {process.returncode} during start-up: {_tail(log)} "
                    f"{_tail(self.logs / f'{name}.stdout', 5)}"
                )

    def _client(self, *args: str, timeout: int = 20) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def _wait_for(self, what: str, ready: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_alive()
            if ready():
                return
            time.sleep(0.5)
        logs = " ".join(
            f"[{n}] {_tail(self.logs / f'{n}.log', 8)}" for n in ("slurmctld", "slurmd")
        )
        raise ClusterUnavailable(f"{what} not ready after {timeout_s:.0f} s: {logs}")

    def _node_state(self) -> str:
        result = self._client("sinfo", "--noheader", "--nodes", self.node, "--format", "%t")
        return result.stdout.strip() if result.returncode == 0 else ""

    def start(self, timeout_s: float = 60) -> SlurmCluster:
        """Bring the cluster up and wait until its node is idle.

        Raises:
            ClusterUnavailable: With the daemons' log tails, if anything fails to start.
        """
        install_slurm()
        self._lock = open(LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held until stop()
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            busy = [port for port in PORTS if _port_in_use(port)]
            if busy:
                raise ClusterUnavailable(f"ports {busy} are in use: another SLURM runs here")
            started = time.monotonic()
            munge = self._write_munge_key()
            self._write_config()
            self._link_system_conf()
            socket_path = munge / "munge.socket.2"
            self._spawn(
                "munged",
                [
                    "munged", "--foreground", "--force",
                    f"--key-file={munge / 'munge.key'}", f"--socket={socket_path}",
                    f"--pid-file={munge / 'munged.pid'}", f"--log-file={self.logs / 'munged.log'}",
                    f"--seed-file={munge / 'munged.seed'}",
                ],
            )  # fmt: skip
            self._wait_for("munged", socket_path.exists, 20)
            self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
            self._wait_for(
                "slurmctld", lambda: self._client("scontrol", "ping").returncode == 0, 30
            )
            self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
            self._wait_for("node", lambda: self._node_state() == "idle", timeout_s)
            logger.info("SLURM cluster up in %.1f s (%s)", time.monotonic() - started, self.root)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Cancel every job, stop the daemons by PID (SIGTERM, then SIGKILL) and unlink the conf."""
        if "slurmctld" in self._processes and self._processes["slurmctld"].poll() is None:
            self._client("scancel", "--full", "--user", "root", timeout=10)
        for name in ("slurmd", "slurmctld", "munged"):
            process = self._processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._linked_conf:
            SYSTEM_CONF.unlink(missing_ok=True)
            if self._previous_link is not None:
                SYSTEM_CONF.symlink_to(self._previous_link)
            self._linked_conf = False
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def pids(self) -> dict[str, int]:
        """The PIDs of the daemons that are still running."""
        return {n: p.pid for n, p in self._processes.items() if p.poll() is None}

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (finished ones for ``MinJobAge``), as key=value dicts."""
        result = self._client("scontrol", "--oneliner", "show", "job")
        if result.returncode != 0:
            raise RuntimeError(f"scontrol show job failed: {result.stderr.strip()}")
        jobs = []
        for line in result.stdout.splitlines():
            fields = {}
            for token in line.split():
                key, _, value = token.partition("=")
                fields[key] = value
            if "JobId" in fields:
                jobs.append(fields)
        return jobs

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
