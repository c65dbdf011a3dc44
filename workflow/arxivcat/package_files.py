"""The list of this package's files, for workflows that use arxivcat as a module from git.

Snakemake reads a module from ``github(...)``, ``gitlab(...)`` or ``gitfile(...)`` file by file,
and cannot list a folder there; ``workflow/rules/common.smk`` therefore fetches the files named in
:data:`MANIFEST` (every file of the package, one path per line, relative to it) and imports the
package from them.  ``python -m arxivcat.package_files`` rewrites the list after a module is added
or removed; ``tests/test_module.py`` fails while it is out of date.
"""

from __future__ import annotations

from pathlib import Path

#: The list, beside this module.
MANIFEST = "package_files.txt"
#: What a checkout holds beside the package's own files, never part of it.
NOT_PACKAGED = ("__pycache__",)


def package_files(root: Path) -> list[str]:
    """Every file of the package at ``root`` (the list itself included), sorted, as posix paths."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and not set(path.relative_to(root).parts) & set(NOT_PACKAGED)
    )


def main() -> None:
    """Rewrite the list of the package's files beside this module."""
    root = Path(__file__).resolve().parent
    (root / MANIFEST).touch()
    (root / MANIFEST).write_text("\n".join(package_files(root)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
