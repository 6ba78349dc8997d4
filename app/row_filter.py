"""Which rows the results table shows (no Qt, no torch: the session and the widgets share it).

Plain values, so that a combo box finds them by equality: None (every row), WRONG (the wrong
answers), an int (the images that left at that exit, 0-based), or ``predicted(c)`` (the images
predicted as class ``c``).
"""

from __future__ import annotations

__all__ = ["RowFilter", "WRONG", "predicted", "predicted_class"]

WRONG = "wrong"
PREDICTED = "predicted:"
RowFilter = int | str | None


def predicted(category: int) -> str:
    """The filter for the images predicted as class ``category``."""
    return f"{PREDICTED}{category}"


def predicted_class(show: RowFilter) -> int | None:
    """The class of a ``predicted`` filter; None for any other filter."""
    return int(show[len(PREDICTED):]) if isinstance(show, str) and show.startswith(PREDICTED) else None
