"""The newest papers, held out of train, validation and test alike.

A split definition's ``holdout`` names the papers that come after the data its models are built
on: those first submitted on or after a date (``from``), or in the last N months of the snapshot
(``months``, counted back from its newest submission).  They form the ``heldout`` split, which
no model trains, chooses a threshold or is tested on, and on which every model and baseline of
the split's experiments is scored, so that a card shows how its numbers hold on later papers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: The held-out split's name in the assignment and the experiment tables.
HELDOUT = "heldout"
_EPOCH = dt.date(1970, 1, 1)


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    last = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def cutoff(holdout: dict[str, str | int] | None, days: np.ndarray) -> dt.date | None:
    """The first held-out submission day of ``holdout``, given every paper's submission day.

    Args:
        holdout: ``{"from": "YYYY-MM-DD"}``, ``{"months": N}`` or None.
        days: Days since 1970-01-01 of each paper's first submission.
    """
    if not holdout:
        return None
    if "from" in holdout:
        return dt.date.fromisoformat(str(holdout["from"]))
    newest = _EPOCH + dt.timedelta(days=int(days.max()))
    return _months_before(newest, int(holdout["months"]))


def held_out(days: np.ndarray, first: dt.date | None) -> np.ndarray:
    """Which papers are held out: submitted on or after ``first``."""
    if first is None:
        return np.zeros(len(days), dtype=bool)
    return days >= (first - _EPOCH).days


def describe(days: np.ndarray, mask: np.ndarray, first: dt.date | None) -> dict[str, object]:
    """What the split report and the card say of the held-out papers."""
    if first is None:
        return {"papers": 0}
    chosen = days[mask]
    span = (
        [str(_EPOCH + dt.timedelta(days=int(d))) for d in (chosen.min(), chosen.max())]
        if (chosen.size)
        else [None, None]
    )
    return {
        "from": str(first),
        "papers": int(mask.sum()),
        "first_submitted": span[0],
        "last_submitted": span[1],
    }
