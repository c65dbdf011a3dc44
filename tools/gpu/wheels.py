"""Provisioning of the borrowed GPU machine: the wheels it lacks, and what it already has.

The GPU machine (``box_packages.txt``: its Python packages, as the workplace lists them) can
download nothing, so the packages it lacks travel as wheels (``wheels.txt``), downloaded here by
``tools/gpu/wheels.sh download`` and installed there by ``tools/gpu/wheels.sh install``.

- ``check``: each folder holds one wheel of each package listed for it and nothing else, and every
  wheel's requirements are carried or on the machine;
- ``pick``: the wheels to install on this machine, one per package (run on the GPU machine);
- ``audit SCRIPT [ARGS...]``: run a Python script here (the GPU check's smoke run) and fail when
  it imported a package that the machine lacks and no carried wheel provides.

``check`` and ``pick`` read only the standard library (``pick`` also ``packaging``), so that the
machine's own Python can run them before anything is installed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import runpy
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOX_PACKAGES = HERE / "box_packages.txt"
WHEELS = HERE / "wheels.txt"
FALLBACK = "fallback"


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
                continue  # carried: the pins of wheels.txt fit one another
            try:
                installed = importlib.metadata.version(requirement.name)
            except importlib.metadata.PackageNotFoundError:
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


def uncovered_imports() -> list[str]:
    """Packages imported so far that the GPU machine lacks and no carried wheel provides.

    Only what the project's requirements bring in through packages the machine lacks counts:
    the machine's own packages bring their own requirements there (this environment may hold
    other versions, with other requirements).
    """
    box = box_packages()
    carried = {name for folder, name, _ in wheel_pins() if not folder}
    owners = importlib.metadata.packages_distributions()
    imported = {
        normalized(dist)
        for module in list(sys.modules)
        for dist in owners.get(module.split(".")[0], [])
    }
    requires = {
        normalized(dist.metadata["Name"]): [
            requirement_name(r) for r in dist.requires or () if "extra ==" not in r
        ]
        for dist in importlib.metadata.distributions()
    }
    needed: set[str] = set()
    todo = ["arxivcat"]
    while todo:
        for name in requires.get(todo.pop(), ()):
            if name not in needed and name not in box:
                needed.add(name)
                todo.append(name)
    return sorted((needed & imported) - carried)


def audit(script: Path, arguments: list[str]) -> int:
    """Run ``script`` as ``__main__`` in this process, then check what it imported.

    Returns:
        The script's exit status, or 1 when it succeeded but imported an uncovered package.
    """
    sys.argv = [str(script), *arguments]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    missing = uncovered_imports()
    print(
        "imports the GPU machine lacks and no carried wheel provides: "
        + (", ".join(missing) if missing else "none")
    )
    return status or (1 if missing else 0)


def main() -> None:
    """The command line: ``check``, ``pick`` or ``audit``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "check the downloaded wheels"), ("pick", "print the wheels")):
        commands.add_parser(name, help=text).add_argument("--dir", type=Path, default=Path(".whl"))
    run = commands.add_parser("audit", help="run a script, then check what it imported")
    run.add_argument("script", type=Path)
    run.add_argument("arguments", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    if options.command == "check":
        check_wheels(options.dir)
    elif options.command == "pick":
        print("\n".join(str(wheel) for wheel in pick_wheels(options.dir)))
    else:
        sys.exit(audit(options.script, options.arguments))


if __name__ == "__main__":
    main()
