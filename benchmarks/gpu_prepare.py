"""Data and package lists for the GPU check (benchmarks/gpu_check.sh), made on this machine.

The GPU machine can download nothing: no tokenizer, no packages.  ``data`` tokenizes the real
arXiv abstracts of ``$ARXIVCAT_SHARED/data/arxiv/*.jsonl`` (default ``<repo>/../shared``) here,
with the tokenize stage's own code and the MiniLM tokenizer (the bert-base-uncased vocabulary of
30,522 tokens, the ``BertConfig()`` default) at max length 512, into ``.gpu-data/tokenized``: a
``DatasetDict`` as the tokenize stage writes it (tokenizer included), which the train and evaluate
stages read there.

- train: the records cycled to ``--train-rows`` rows (default 9,472 = 37 x 256, so that every
  training batch of 32, 128 or 256 is full: a smaller last batch would make ``torch.compile``
  compile again for one step);
- validation: 32 records (one batch: the Trainer evaluates it at the epoch end);
- test: every record once (the evaluation stage's measured split).

It also writes ``.gpu-data/corpus.parquet``, the corpus the predict stage scores there: ``id``,
``title`` and ``abstract`` of the same records cycled to ``--corpus-rows`` papers (default 20,000,
one chunk of the shipped ``chunk_rows``), dictionary-encoded so that the repeats cost no space.

The packages part (``wheels-check``) reads only the standard library, so that the system Python
can run it beside ``pip download``.

Usage: ``bash benchmarks/gpu_prepare.sh`` (wheels and data; ``... data``: the data alone).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BOX_PACKAGES = HERE / "gpu_box_packages.txt"
WHEELS = HERE / "gpu_wheels.txt"
FALLBACK = "fallback"
MODEL = "builtin:minilm"
MAX_LENGTH = 512
VALIDATION_ROWS = 32
CORPUS_ROWS = 20_000
SEED = 20230227


def normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def listed(path: Path) -> list[str]:
    """The non-comment lines of a list file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [kept for kept in (line.split("#", 1)[0].strip() for line in lines) if kept]


def box_packages() -> set[str]:
    """Normalized names of the packages already on the GPU machine."""
    return {normalized(name) for name in listed(BOX_PACKAGES)}


def wheel_pins() -> list[tuple[str, str, str]]:
    """(folder, normalized name, version) of each listed wheel; folder ``""`` or ``fallback``."""
    pins = []
    for line in listed(WHEELS):
        folder, _, pin = line.rpartition(" ")
        name, version = pin.split("==")
        pins.append((folder.strip(), normalized(name), version))
    return pins


def wheel_packages() -> dict[str, str]:
    """Normalized name -> version of the (main) wheels carried to the GPU machine."""
    return {name: version for folder, name, version in wheel_pins() if not folder}


def requirement_name(requirement: str) -> str:
    """The normalized package name of a requirement string (``name[extra]>=1; marker``)."""
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    return normalized(match.group()) if match else ""


def requires_dist(wheel: Path) -> list[str]:
    """A wheel's requirements, those of its extras left out."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    return [
        line.split(":", 1)[1].strip()
        for line in lines
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]


def wheel_name(wheel: Path) -> tuple[str, str]:
    """(normalized name, version) of a wheel file."""
    name, version = wheel.name.split("-")[:2]
    return normalized(name), version


def shared_dir() -> Path:
    """The read-only real data: ``$ARXIVCAT_SHARED``, default ``<repo>/../shared``."""
    return Path(os.environ.get("ARXIVCAT_SHARED") or REPO.parent / "shared")


def check_wheels(directory: Path) -> None:
    """Fail unless each folder holds one wheel of each package listed for it and nothing else.

    Also fails when a wheel requires (``Requires-Dist`` without extras) a package that is neither
    carried nor on the GPU machine.
    """
    problems: list[str] = []
    wheels = []
    for folder in ("", FALLBACK):
        wanted = {name: v for f, name, v in wheel_pins() if f == folder}
        found: dict[str, list[str]] = {}
        for wheel in sorted((directory / folder).glob("*.whl")):
            name, version = wheel_name(wheel)
            found.setdefault(name, []).append(version)
            wheels.append(wheel)
        at = directory / folder
        problems += [
            f"{at}: {n} in versions {', '.join(v)}" for n, v in found.items() if len(v) > 1
        ]
        problems += [f"{at}: no {n}=={v}" for n, v in wanted.items() if v not in found.get(n, ())]
        problems += [f"{at}: {n} is not listed in {WHEELS.name}" for n in found if n not in wanted]
    available = box_packages() | {wheel_name(w)[0] for w in wheels}
    problems += [
        f"{wheel.name} requires {requirement}: neither carried nor on the GPU machine"
        for wheel in wheels
        for requirement in requires_dist(wheel)
        if requirement_name(requirement) not in available
    ]
    if problems:
        raise SystemExit("; ".join(problems))
    size = sum(w.stat().st_size for w in wheels)
    print(f"{directory}: {len(wheels)} wheels, {size / 2**20:.1f} MiB, requirements covered")


def pick_wheels(directory: Path) -> list[Path]:
    """The wheels to install on this machine, one per package.

    Of each package the main folder's wheel when this machine's packages meet its requirements,
    else the candidate with the fewest unmet ones (the main wheel on a tie).  Unmet requirements
    go to stderr.  Meant for the GPU machine, whose packages are fixed.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    candidates: dict[str, list[Path]] = {}
    for wheel in sorted(directory.glob("*.whl")) + sorted((directory / FALLBACK).glob("*.whl")):
        candidates.setdefault(wheel_name(wheel)[0], []).append(wheel)

    def unmet(wheel: Path) -> list[str]:
        out = []
        for line in requires_dist(wheel):
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate():
                continue
            if normalized(requirement.name) in candidates:
                continue  # carried: the pins of gpu_wheels.txt fit one another
            try:
                installed = version(requirement.name)
            except PackageNotFoundError:
                out.append(f"{line} (absent)")
                continue
            if not requirement.specifier.contains(installed, prereleases=True):
                out.append(f"{line} ({installed} here)")
        return out

    chosen = []
    for wheels in candidates.values():
        problems = {wheel: unmet(wheel) for wheel in wheels}
        best = min(wheels, key=lambda wheel: len(problems[wheel]))  # the first of the fewest
        for wheel in wheels if problems[best] or best != wheels[0] else ():
            print(f"{wheel.name}: unmet {'; '.join(problems[wheel]) or 'none'}", file=sys.stderr)
        chosen.append(best)
    return chosen


def records(shared: Path) -> list[tuple[str, str]]:
    """Title and abstract of every distinct real record with an abstract."""
    from train_speed import real_records

    paths = sorted((shared / "data" / "arxiv").glob("*.jsonl"))
    if not paths:
        raise SystemExit(f"{shared}/data/arxiv: no *.jsonl records (set ARXIVCAT_SHARED)")
    return list(dict.fromkeys(r for path in paths for r in real_records(path, SEED)))


def write_corpus(papers: list[tuple[str, str]], rows: int, path: Path) -> None:
    """The predict stage's corpus: ``papers`` cycled to ``rows`` rows of id, title, abstract."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    chosen = [papers[i % len(papers)] for i in range(rows)]
    table = {
        "id": [f"paper-{i}" for i in range(rows)],
        "title": [title for title, _ in chosen],
        "abstract": [abstract for _, abstract in chosen],
    }
    # A dictionary page large enough for every distinct abstract: each repeat is an index.
    pq.write_table(pa.table(table), path, dictionary_pagesize_limit=64 * 2**20)


def prepare_data(output: Path, train_rows: int, corpus_rows: int) -> None:
    """Tokenize the real records into ``output/tokenized`` with the tokenize stage's code.

    Also writes the predict stage's corpus, ``output/corpus.parquet``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arxivcat.model.tokenize import tokenize_splits

    papers = records(shared_dir())
    counts = {"train": train_rows, "validation": VALIDATION_ROWS, "test": len(papers)}
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for split, count in counts.items():
            chosen = [papers[i % len(papers)] for i in range(count)]
            paths[split] = Path(scratch) / f"{split}.parquet"
            table = {
                "id": [f"{split}-{i}" for i in range(count)],
                "title": [title for title, _ in chosen],
                "abstract": [abstract for _, abstract in chosen],
                "label": [i % 2 for i in range(count)],  # throughput only: any labels do
                "is_weak_negative": [False] * count,
            }
            pq.write_table(pa.table(table), paths[split])
        dataset = tokenize_splits(paths, MODEL, MAX_LENGTH, output / "tokenized")
    write_corpus(papers, corpus_rows, output / "corpus.parquet")
    lengths = [len(ids) for ids in dataset["test"]["input_ids"]]
    info = {
        "source": str(shared_dir() / "data" / "arxiv" / "*.jsonl"),
        "records": len(papers),
        "rows": counts,
        "corpus_rows": corpus_rows,
        "tokenizer": MODEL,
        "max_length": MAX_LENGTH,
        "mean_tokens": round(sum(lengths) / len(lengths), 1),
        "truncated_share": round(sum(n == MAX_LENGTH for n in lengths) / len(lengths), 4),
    }
    (output / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    print(f"{output}: {json.dumps(info)}; {size / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="tokenize the real records into OUTPUT/tokenized")
    data.add_argument("--output", type=Path, default=REPO / ".gpu-data")
    data.add_argument("--train-rows", type=int, default=37 * 256)
    data.add_argument("--corpus-rows", type=int, default=CORPUS_ROWS)
    check = commands.add_parser("wheels-check", help="check the downloaded wheels")
    check.add_argument("--dir", type=Path, default=REPO / ".whl")
    pick = commands.add_parser("wheels-pick", help="print the wheels to install on this machine")
    pick.add_argument("--dir", type=Path, default=REPO / ".whl")
    options = parser.parse_args()
    if options.command == "data":
        prepare_data(options.output, options.train_rows, options.corpus_rows)
    elif options.command == "wheels-check":
        check_wheels(options.dir)
    else:
        print("\n".join(str(wheel) for wheel in pick_wheels(options.dir)))


if __name__ == "__main__":
    main()
