"""A prediction job spread over several processes, one per GPU (``predict.gpus``).

The parent writes the job to a file of the chunk store and starts ``python -m
arxivcat.predict.spread JOB RANK PROCESSES`` once per process, each restricted to one GPU with
``CUDA_VISIBLE_DEVICES`` (fresh interpreters rather than multiprocessing's spawn, which would run
the caller's unguarded ``__main__``, e.g. a Snakemake script, again).  Each process scores its
share of the chunks (:func:`arxivcat.predict.scoring_job.score_share`) and reports on its stdout
in JSON lines, so that only the parent logs progress.  A failed process stops the job with its
one-line reason; SIGINT or SIGTERM of the parent (Ctrl-C on Snakemake, a scheduler's cancel) stops
every process.  Finished chunks stay in the store either way, for a rerun to resume.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any

from arxivcat.errors import ArxivcatError
from arxivcat.io.progress import Progress
from arxivcat.predict.scoring_job import PredictError, ScoringJob, score_share


def _relay(rank: int, stream: IO[str], inbox: queue.Queue) -> None:
    """Put each report line of process ``rank`` in ``inbox``; then its end."""
    for line in stream:
        if line.startswith("{"):
            inbox.put((rank, json.loads(line)))
    inbox.put((rank, {"kind": "ended"}))


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a :class:`PredictError` while the processes run."""

    def stop(number: int, frame: FrameType | None) -> None:
        raise PredictError(f"prediction interrupted by {signal.Signals(number).name}")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def score_in_processes(
    job: ScoringJob, processes: int, gpus: list[str] | None, progress: Progress
) -> tuple[int, dict[str, Any]]:
    """Score ``job`` with ``processes`` processes (on ``gpus[rank]`` each, or on the CPU).

    Returns:
        The number of chunks of the corpus, and the processes' record of the model and their
        scoring (device, precision, token budget; real and padded tokens summed).

    Raises:
        PredictError: If a process fails (naming it and its reason) or the job is interrupted.
    """
    job_file = job.store_dir / f"job-{os.getpid()}.pickle"
    job_file.write_bytes(pickle.dumps(job))
    threads = max(1, (os.cpu_count() or 1) // processes)
    inbox: queue.Queue = queue.Queue()
    workers: list[subprocess.Popen] = []
    chunks, loaded, running = 0, {}, processes
    with _signals_raise():
        try:
            for rank in range(processes):
                env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
                if gpus:
                    env["CUDA_VISIBLE_DEVICES"] = gpus[rank]
                command = [sys.executable, "-m", __name__, str(job_file), str(rank), str(processes)]
                worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
                workers.append(worker)
                relay = threading.Thread(
                    target=_relay, args=(rank, worker.stdout, inbox), daemon=True
                )
                relay.start()
            while running:
                rank, report = inbox.get()
                kind = report["kind"]
                if kind == "scored":
                    progress.advance(report["rows"])
                elif kind == "skipped":
                    progress.skip(report["rows"])
                elif kind == "done":
                    chunks = max(chunks, report["chunks"])
                    loaded = _add_tokens(loaded, report["model"])
                elif kind == "error":
                    raise PredictError(f"scoring process {rank}: {report['message']}")
                elif kind == "ended":
                    running -= 1
                    if code := workers[rank].wait():
                        raise PredictError(f"scoring process {rank} failed (exit code {code})")
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
            for worker in workers:
                worker.wait()
            job_file.unlink(missing_ok=True)
    return chunks, loaded


def _add_tokens(total: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A scoring record with the tokens of ``total`` and ``record`` summed."""
    if not total:
        return record
    tokens = {k: total["tokens"][k] + record["tokens"][k] for k in record["tokens"]}
    return {**record, "tokens": tokens}


def _report(kind: str, **values: Any) -> None:
    print(json.dumps({"kind": kind, **values}), flush=True)


def main(argv: list[str]) -> int:
    """One scoring process: ``JOB RANK PROCESSES`` (run by :func:`score_in_processes`)."""
    from arxivcat.predict.scoring import load_classifier_folder

    job_file, rank, processes = Path(argv[0]), int(argv[1]), int(argv[2])
    job: ScoringJob = pickle.loads(job_file.read_bytes())
    try:
        classifier = load_classifier_folder(
            job.model_dir, job.settings.device, job.settings.precision
        )
        chunks = score_share(job, classifier, rank, processes, lambda k, n: _report(k, rows=n))
    except ArxivcatError as error:
        _report("error", message=str(error))
        return 1
    _report("done", chunks=chunks, model=classifier.record())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
