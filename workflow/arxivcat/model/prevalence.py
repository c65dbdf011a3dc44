"""What a threshold's numbers become on a corpus with another share of positives.

Recall (the true-positive rate, TPR) and the false-positive rate (FPR) of a threshold do not
depend on how many positives a corpus holds; precision does.  At a share ``p`` of positives the
threshold labels ``p * TPR + (1 - p) * FPR`` of the papers positive, of which ``p * TPR`` rightly,
so precision is ``p * TPR / (p * TPR + (1 - p) * FPR)``.  Read the other way, a corpus whose papers
are labelled positive at a share ``q`` holds about ``(q - FPR) / (TPR - FPR)`` positives (the
adjusted count of Forman, and of Rogan and Gladen before him): predict reports it beside ``q``, so
a user tagging a new corpus sees when it differs from the training data.
"""

from __future__ import annotations

from typing import Any


def at_prevalence(tpr: float, fpr: float, prevalence: float) -> dict[str, Any]:
    """Precision, recall and F1 of a threshold with rates ``tpr``/``fpr`` at ``prevalence``."""
    labelled = prevalence * tpr + (1 - prevalence) * fpr
    precision = prevalence * tpr / labelled if labelled > 0 else 0.0
    f1 = 2 * precision * tpr / (precision + tpr) if precision + tpr > 0 else 0.0
    return {
        "prevalence": prevalence,
        "precision": precision,
        "recall": tpr,
        "f1": f1,
        "labelled_positive": labelled,
    }


def estimated_prevalence(labelled_share: float, tpr: float, fpr: float) -> float | None:
    """The share of positives that explains ``labelled_share`` given the rates.

    Clipped to [0, 1]; None when the rates cannot tell (TPR not above FPR).
    """
    if tpr <= fpr:
        return None
    return min(1.0, max(0.0, (labelled_share - fpr) / (tpr - fpr)))
