"""Code digests that let Snakemake see changes to the meaning of the package code a stage runs.

Snakemake's ``code`` rerun trigger covers a rule's own script, not the modules it imports.  Each
rule therefore carries ``params: code=code_digest("arxivcat.<stage>.<module>")``: a hash of that
module and of every ``arxivcat`` module the import of it runs (its imports, directly or not, and
the packages they sit in).  Each module is hashed as its syntax tree with docstrings removed and
printed back (``ast.unparse``), so comments, docstrings, blank lines and formatting never rerun a
stage; any other edit reruns exactly the stages whose modules import the edited one.  The digest
follows the running Python's ``ast``: a new Python version may print some code differently.
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


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The absolute name of the module a ``from ... import`` in ``module`` (at ``path``) names."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str, path: Path) -> set[str]:
    """Package modules named by the imports of ``module``, and the packages that contain them."""
    found: set[str] = set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path)
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    parents = {package for name in found for package in _packages(name)}
    return {name for name in found | parents if name.split(".")[0] == PACKAGE}


def _packages(module: str) -> list[str]:
    """The packages that contain ``module``, outermost first (importing it runs them all)."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


class _DropStrings(ast.NodeTransformer):
    """Removes statements that are a bare string: docstrings, and strings documenting a name."""

    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        return node


def normalized_source(path: Path) -> str:
    """Return the code of the module at ``path`` without comments, docstrings or layout.

    Args:
        path: A Python source file.

    Returns:
        ``ast.unparse`` of its syntax tree without the statements that are a bare string (which
        do nothing when run), so that two sources differing only in those, in comments or in
        formatting read the same.  The result is for hashing; it need not compile.
    """
    return ast.unparse(_DropStrings().visit(_parse(path)))


@cache
def module_closure(module: str) -> tuple[Path, ...]:
    """Return the source files of ``module`` and of every package module its import runs, sorted.

    Raises:
        ValueError: If ``module`` is not a module of the package.
    """
    seen: dict[str, Path] = {}
    pending = [module, *_packages(module)]
    while pending:
        name = pending.pop()
        path = _module_path(name)
        if path is None or name in seen:
            continue
        seen[name] = path
        pending.extend(_imports(name, path))
    if module not in seen:
        raise ValueError(f"{module} is not a module of the {PACKAGE} package")
    return tuple(sorted(set(seen.values())))


def code_digest(*modules: str) -> str:
    """Return a short sha256 over the normalized code of ``modules`` and their package imports."""
    digest = hashlib.sha256()
    files = sorted({path for module in modules for path in module_closure(module)})
    for path in files:
        digest.update(path.relative_to(_ROOT).as_posix().encode())
        digest.update(b"\0")
        digest.update(normalized_source(path).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
