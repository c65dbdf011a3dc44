"""A stand-in for `conda` that lets Snakemake's own conda deployment run where conda cannot be had.

conda cannot be installed here, so :func:`install` puts a `conda` command on a PATH that answers
the calls Snakemake makes (`conda info --json`, `--version`, `config --get channel_priority`) and
creates an environment the way `conda env create --file F --prefix P` handles an env file's pip
part: Python from the host (which must match the file's `python=X.Y`), then the pip entries
written to a requirements file beside F (the copy Snakemake made) and installed by that env's pip
from F's directory.  Snakemake then activates the env through `<conda prefix>/bin/activate`.  What
this does not show: that conda-forge resolves `python` and `pip` (it surely does), and that the
pip index lines reach download.pytorch.org (there is no network here: pip is told not to retry).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import yaml

#: The oldest conda that Snakemake accepts.
VERSION = "24.7.1"

ACTIVATE = """# Activates the environment named by the first argument (a venv made by fake_conda).
echo "activate $1" >> "{calls}"
export VIRTUAL_ENV="$1"
export PATH="$1/bin:$PATH"
"""


def install(root: Path) -> dict[str, str]:
    """Set up the stand-in under ``root`` (once); return the environment that makes it `conda`."""
    bin_dir = root / "bin"
    conda = bin_dir / "conda"
    if not conda.exists():
        bin_dir.mkdir(parents=True)
        activate = ACTIVATE.format(calls=root / "calls.log")
        (bin_dir / "activate").write_text(activate, encoding="utf-8")
        conda.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n',
            encoding="utf-8",
        )
        conda.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_CONDA_ROOT": str(root)}


def calls(root: Path) -> list[str]:
    """The commands the stand-in answered (and the environments activated), in order."""
    path = root / "calls.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def create(env_file: Path, prefix: Path) -> None:
    """Create the environment of ``env_file`` at ``prefix`` (its Python and its pip part)."""
    spec = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    pip: list[str] = []
    for entry in spec["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        elif entry.startswith("python="):
            wanted = entry.removeprefix("python=")
            have = f"{sys.version_info.major}.{sys.version_info.minor}"
            if wanted != have:
                raise SystemExit(f"{env_file}: wants python {wanted}, this host has {have}")
    venv.EnvBuilder(with_pip=True).create(prefix)
    requirements = env_file.parent / f"condaenv.{os.getpid()}.requirements.txt"
    requirements.write_text("\n".join(pip) + "\n", encoding="utf-8")
    try:
        subprocess.run(
            [str(prefix / "bin" / "python"), "-m", "pip", "install", "-U", "-r", requirements.name,
             "--exists-action=b", "--quiet", "--disable-pip-version-check"],
            cwd=env_file.parent,
            env={**os.environ, "PIP_RETRIES": "0", "PIP_TIMEOUT": "10"},
            check=True,
        )  # fmt: skip
    finally:
        requirements.unlink()


def main(args: list[str]) -> int:
    """Answer one `conda` command line."""
    root = Path(os.environ["FAKE_CONDA_ROOT"])
    with open(root / "calls.log", "a", encoding="utf-8") as log:
        log.write(" ".join(["conda", *args]) + "\n")
    if args == ["--version"]:
        print(f"conda {VERSION}")
    elif args == ["info", "--json"]:
        print(json.dumps({"conda_prefix": str(root), "platform": "linux-64"}))
    elif args[:3] == ["config", "--get", "channel_priority"]:
        print(json.dumps({"get": {"channel_priority": "strict"}}))
    elif args[:1] == ["clean"]:
        pass  # the stand-in keeps no package cache
    elif args[:2] == ["env", "create"]:
        options = dict(itertools.pairwise(args))
        create(Path(options["--file"].strip('"')), Path(options["--prefix"].strip('"')))
    else:
        print(f"fake conda: unsupported command: {' '.join(args)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
