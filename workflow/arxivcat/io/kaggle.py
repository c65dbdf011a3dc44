"""Kaggle's dataset download API: the URL of ``kaggle:OWNER/DATASET`` and the credentials.

Credentials come from ``KAGGLE_USERNAME``/``KAGGLE_KEY`` or ``kaggle.json`` and are sent as
HTTP basic auth by :func:`arxivcat.io.fetch.fetch_source`; the API redirects to a signed storage
URL, to which ``requests`` does not forward them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from arxivcat.errors import ArxivcatError

#: Kaggle's API root; ``ARXIVCAT_KAGGLE_API`` overrides it (tests point it at a loopback server).
KAGGLE_API = "https://www.kaggle.com/api/v1"


class KaggleError(ArxivcatError, ValueError):
    """Missing or malformed Kaggle credentials, or a malformed dataset name."""


def kaggle_credentials(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (username, key) from KAGGLE_USERNAME/KAGGLE_KEY or kaggle.json.

    ``kaggle.json`` is looked up in ``KAGGLE_CONFIG_DIR`` or ``~/.kaggle``.

    Raises:
        KaggleError: If no credentials are found (the message says where they were looked for).
    """
    environ = dict(os.environ if environ is None else environ)
    if environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY"):
        return environ["KAGGLE_USERNAME"], environ["KAGGLE_KEY"]
    folder = Path(environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    path = folder / "kaggle.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return str(data["username"]), str(data["key"])
        except (ValueError, KeyError, TypeError):
            raise KaggleError(f"{path}: expected {{'username': ..., 'key': ...}}") from None
    raise KaggleError(
        "Kaggle download needs credentials: set KAGGLE_USERNAME and KAGGLE_KEY or create "
        f"{path} (see https://www.kaggle.com/docs/api)"
    )


def kaggle_url(dataset: str, api: str | None = None) -> str:
    """Return the download API URL of ``OWNER/DATASET``."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", dataset):
        raise KaggleError(f"kaggle:{dataset}: expected kaggle:OWNER/DATASET")
    api = (api or os.environ.get("ARXIVCAT_KAGGLE_API") or KAGGLE_API).rstrip("/")
    return f"{api}/datasets/download/{dataset}"
