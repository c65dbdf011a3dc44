"""Secrets out of everything the workflow writes: logs, manifests, cards and error messages.

:func:`redact` is the one place that knows what a secret looks like in text about HTTP: the
values of credential-bearing query parameters (pre-signed storage URLs' ``X-Amz-Signature``,
``X-Amz-Credential``, ``X-Goog-Signature``, Azure's ``sig``, ``token``, ``key``, ``api_key``, ...),
``user:password@`` in URLs, and ``Authorization``/API-key header values.  Everything else stays,
so a redacted URL still says which host, path and (harmless) parameters were asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import overload

#: What replaces a secret.
MASK = "REDACTED"

# Words of a name (split at - _ . and camelCase) that mark a parameter or header as a credential.
_SECRET_WORDS = frozenset(
    {"sig", "signature", "credential", "credentials", "token", "key", "apikey", "secret",
     "password", "passwd", "pwd", "auth", "authorization", "session", "cookie"}
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Parameters whose names look like credentials but are protocol state worth seeing in a log.
_NOT_SECRET = frozenset({"resumptiontoken"})

_PARAMETER = re.compile(
    r"(?P<lead>[?&;]|^|(?<=[\s\"'(,{]))(?P<name>[A-Za-z][\w.-]*)=(?P<value>[^&\s\"'<>;,)}]*)"
)
_QUOTED = re.compile(r"(?P<name>[\"'][\w.-]+[\"'])(?P<sep>\s*:\s*)(?P<value>\"[^\"]*\"|'[^']*')")
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][\w+.-]*://)[^/@\s\"'<>]+@")
_HEADER = re.compile(
    r"(?P<name>\b(?:proxy-)?authorization|\bx-api-key|\bapi-key|\bcookie)(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:(?:basic|bearer|token|digest)\s+)?[^\s\"',}]+)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or header called ``name`` carries a credential."""
    lowered = name.lower()
    if lowered in _NOT_SECRET:
        return False
    return any(word.lower() in _SECRET_WORDS for word in _WORD.findall(name))


def _parameter(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]) or not match["value"]:
        return match[0]
    return f"{match['lead']}{match['name']}={MASK}"


def _quoted(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"][1:-1]):
        return match[0]
    quote = match["value"][0]
    return f"{match['name']}{match['sep']}{quote}{MASK}{quote}"


@overload
def redact(value: str) -> str: ...
@overload
def redact(value: Mapping[str, str]) -> dict[str, str]: ...
def redact(value: str | Mapping[str, str]) -> str | dict[str, str]:
    """Return ``value`` with every credential replaced by ``REDACTED``.

    Args:
        value: A URL, any text that may hold URLs, query strings or header lines (a log
            message, an error body, an exception's message), or a mapping of HTTP headers.

    Returns:
        The text (or a copy of the headers) with credential values masked; the rest unchanged.
    """
    if isinstance(value, Mapping):
        return {
            key: MASK if is_secret_name(key) else redact(str(item)) for key, item in value.items()
        }
    text = _USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", str(value))
    text = _HEADER.sub(lambda match: f"{match['name']}{match['sep']}{MASK}", text)
    text = _QUOTED.sub(_quoted, text)
    return _PARAMETER.sub(_parameter, text)
