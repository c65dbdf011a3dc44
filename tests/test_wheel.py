"""The built wheel works away from the checkout: every module imports, and `arxivcat card` renders.

The wheel is built from a copy of the package's sources (so the checkout gets no build/ or
egg-info), installed into a fresh virtual environment that sees this environment's third-party
packages through a ``.pth`` line but not its editable install of the checkout, and run from a
directory outside the checkout with no PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from test_card_golden import model_index_values, parse

from arxivcat.cli import main

REPO = Path(__file__).resolve().parents[1]

# Imports every module of the installed package (`arxivcat.__main__` is the CLI itself, run by
# `python -m arxivcat` below) and reports where they came from.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
from pathlib import Path
import arxivcat
root = Path(arxivcat.__file__).parent
names = sorted(
    module.name
    for module in pkgutil.walk_packages(arxivcat.__path__, "arxivcat.")
    if module.name != "arxivcat.__main__"
)
files = {name: importlib.import_module(name).__file__ for name in ["arxivcat", *names]}
print(json.dumps({"root": str(root), "files": files, "path": sys.path}))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv's python with only the wheel of arxivcat installed, and its environment."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    (source / "workflow").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "workflow" / "arxivcat",
        source / "workflow" / "arxivcat",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["HF_HUB_OFFLINE"] = "1"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    _run([*build, "-w", str(root / "dist"), str(source)], root, env)
    (wheel,) = (root / "dist").glob("arxivcat-*.whl")

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root, env
        ).strip()
    )
    # This environment's packages (torch, transformers, ...), without processing their .pth
    # files: the editable install of the checkout is one of those.
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(
        [*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(purelib), str(wheel)],
        root,
        env,
    )
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return python, env


def test_wheel_imports_every_module_from_the_install(installed):
    python, env = installed
    cwd = python.parents[2] / "elsewhere"
    report = json.loads(_run([str(python), "-c", IMPORT_ALL], cwd, env))
    root = Path(report["root"])
    assert root.is_relative_to(python.parents[1]), f"arxivcat came from {root}"
    # The dependencies' site-packages may lie in the checkout (.venv); nothing else of it may.
    dependencies = {Path(entry) for entry in site.getsitepackages()}
    assert not [
        entry
        for entry in report["path"]
        if entry and Path(entry).is_relative_to(REPO) and Path(entry) not in dependencies
    ]
    sources = REPO / "workflow" / "arxivcat"
    expected = {
        ".".join(("arxivcat", *path.relative_to(sources).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for path in sources.rglob("*.py")
    } - {"arxivcat.__main__"}
    assert set(report["files"]) == expected
    for name, file in report["files"].items():
        assert Path(file).is_relative_to(root), f"{name} came from {file}"
    assert (root / "schema.yaml").is_file()
    # The reference experiments ship too, as config/config.yaml has them.
    assert (root / "config.yaml").read_bytes() == (REPO / "config" / "config.yaml").read_bytes()


def test_wheel_renders_the_golden_card_of_a_reference_run(installed, shared, tmp_path):
    """Outside any checkout and without --config: the experiment comes from the packaged config."""
    python, env = installed
    run_dir = shared / "data" / "reference-runs" / "cv-32"
    output = tmp_path / "wheel" / "README.md"
    card = ["card", "--run-dir", str(run_dir), "--experiment", "cv-32", "--distributed-type", "tpu"]
    elsewhere = python.parents[2] / "elsewhere"
    assert not (elsewhere / "config").exists()
    _run([str(python), "-m", "arxivcat", *card, "--output", str(output)], elsewhere, env)
    # The same card as the checkout renders from config/config.yaml, and the reference's values.
    checkout = tmp_path / "checkout" / "README.md"
    config = ["--config", str(REPO / "config" / "config.yaml")]
    assert main([*card, "--output", str(checkout), *config]) == 0
    assert output.read_text(encoding="utf-8") == checkout.read_text(encoding="utf-8")
    ours = parse(output.read_text(encoding="utf-8"))
    reference = parse((run_dir / "README.md").read_text(encoding="utf-8"))
    assert model_index_values(ours["meta"]) == model_index_values(reference["meta"])
    assert ours["hyperparameters"] == reference["hyperparameters"]
    assert ours["rows"] == reference["rows"]
    assert ours["results"] == reference["results"]
    assert (output.parent / "README_loss.png").is_file()
