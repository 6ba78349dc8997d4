"""Writing results and plots: always to a temporary file beside the target, then renamed, so a
crash or a full disk never leaves half a file under the chosen name."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from ranet.files import atomic_path

__all__ = ["FIELDS", "write_csv", "write_json", "save_png"]

FIELDS = ["path", "status", "label", "confidence", "exit", "flops", "resolution_path", "truth", "correct", "ms",
          "error"]


def write_csv(path: str | Path, rows: list[dict[str, Any]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            flat = dict(row)
            if flat.get("resolution_path"):
                flat["resolution_path"] = ">".join(flat["resolution_path"])
            writer.writerow({k: "" if flat.get(k) is None else flat[k] for k in FIELDS})


def write_json(path: str | Path, rows: list[dict[str, Any]], about: dict[str, Any]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump({**about, "results": rows}, f, indent=1, ensure_ascii=False)


def save_png(widget: QWidget, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        if not widget.grab().save(str(tmp), "PNG"):
            raise OSError(f"cannot write {path}")
