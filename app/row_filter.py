"""Which rows the results table shows (no Qt, no torch: the session and the widgets share it)."""

from __future__ import annotations

__all__ = ["RowFilter", "WRONG"]

WRONG = "wrong"
RowFilter = int | str | None  # None: every row; WRONG: the wrong answers; an int: one exit's rows (0-based)
