"""Code digests that let Snakemake see changes to the package code a stage runs.

Snakemake's ``code`` rerun trigger covers a rule's own script, not the modules it imports.  Each
rule therefore carries ``params: code=code_digest("arxivcat.<module>")``: a hash of that module and
every ``arxivcat`` module it imports, directly or not.  Editing the card renderer changes only the
card rule's digest; editing the training code leaves download and splits alone.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "arxivcat"
_ROOT = Path(__file__).resolve().parent


def _module_path(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = _ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == PACKAGE}


@cache
def module_closure(module: str) -> tuple[Path, ...]:
    """Return the source files of ``module`` and of every package module it imports, sorted."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        path = _module_path(name)
        if path is None or name in seen:
            continue
        seen[name] = path
        pending.extend(_imports(path))
    if module not in seen:
        raise ValueError(f"{module} is not a module of the {PACKAGE} package")
    return tuple(sorted(set(seen.values())))


def code_digest(*modules: str) -> str:
    """Return a short sha256 over the sources of ``modules`` and their package imports."""
    digest = hashlib.sha256()
    files = sorted({path for module in modules for path in module_closure(module)})
    for path in files:
        digest.update(path.relative_to(_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
