"""Which rows the results table shows (no Qt, no torch: the session and the widgets share it).

Plain values, so that a combo box finds them by equality: None (every row), WRONG (the wrong
answers), UNREADABLE (the images that could not be read), an int (the images that left at that exit, 0-based), ``predicted(c)`` (the images
predicted as class ``c``) or ``confused(t, p)`` (the images labelled ``t`` and predicted as ``p``:
a cell of the confusion matrix).
"""

from __future__ import annotations

__all__ = ["RowFilter", "WRONG", "UNREADABLE", "predicted", "predicted_class", "confused", "confused_pair"]

WRONG = "wrong"
UNREADABLE = "unreadable"
PREDICTED = "predicted:"
CONFUSED = "confused:"
RowFilter = int | str | None


def predicted(category: int) -> str:
    """The filter for the images predicted as class ``category``."""
    return f"{PREDICTED}{category}"


def predicted_class(show: RowFilter) -> int | None:
    """The class of a ``predicted`` filter; None for any other filter."""
    return int(show[len(PREDICTED):]) if isinstance(show, str) and show.startswith(PREDICTED) else None


def confused(truth: int, prediction: int) -> str:
    """The filter for the images labelled ``truth`` and predicted as ``prediction``."""
    return f"{CONFUSED}{truth}:{prediction}"


def confused_pair(show: RowFilter) -> tuple[int, int] | None:
    """(label, prediction) of a ``confused`` filter; None for any other filter."""
    if not (isinstance(show, str) and show.startswith(CONFUSED)):
        return None
    truth, prediction = show[len(CONFUSED):].split(":")
    return int(truth), int(prediction)
