"""Persistent settings (threshold, folders, recent models, window geometry, table order, device)
through QSettings.

``RANET_DEMO_SETTINGS`` names a folder to keep them in an ini file there instead of the
platform's place: tests and kiosk set-ups use it to start from a clean slate.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["Settings", "ORGANIZATION", "APPLICATION", "SETTINGS_ENV", "DEFAULT_THRESHOLD", "MAX_RECENT_MODELS"]

ORGANIZATION = "RANetDemo"
APPLICATION = "ranet-demo"
SETTINGS_ENV = "RANET_DEMO_SETTINGS"
DEFAULT_THRESHOLD = 0.9
MAX_RECENT_MODELS = 6


class Settings:
    """Typed access to the few values the app remembers between runs."""

    def __init__(self, store: QSettings | None = None) -> None:
        if store is None:
            folder = os.environ.get(SETTINGS_ENV)
            store = (QSettings(str(Path(folder) / f"{APPLICATION}.ini"), QSettings.Format.IniFormat) if folder
                     else QSettings(ORGANIZATION, APPLICATION))
        self.store = store

    def _get(self, key: str, default, kind: type):
        try:
            return self.store.value(key, default, type=kind)
        except (TypeError, ValueError):  # a hand-edited or foreign value
            return default

    @property
    def threshold(self) -> float:
        value = float(self._get("threshold", DEFAULT_THRESHOLD, float))
        return min(1.0, max(0.0, value))

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.store.setValue("threshold", float(value))

    @property
    def device(self) -> str:
        return str(self._get("device", "auto", str)) or "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("device", value)

    @property
    def last_folder(self) -> str:
        return str(self._get("last_folder", "", str))

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self.store.setValue("last_folder", value)

    @property
    def export_folder(self) -> str:
        return str(self._get("export_folder", "", str))

    @export_folder.setter
    def export_folder(self, value: str) -> None:
        self.store.setValue("export_folder", value)

    @property
    def recent_models(self) -> list[str]:
        """Model files and run folders loaded before, newest first."""
        value = self.store.value("recent_models", [])
        value = [value] if isinstance(value, str) else value  # an ini file gives a list of one as its item
        return [v for v in value if isinstance(v, str) and v][:MAX_RECENT_MODELS] if isinstance(value, list) else []

    @recent_models.setter
    def recent_models(self, paths: list[str]) -> None:
        self.store.setValue("recent_models", list(dict.fromkeys(paths))[:MAX_RECENT_MODELS])

    @property
    def sort(self) -> tuple[int, bool] | None:
        """The table's sort column and whether descending; None: the order images came in."""
        column = int(self._get("table/sort_column", -1, int))
        return (column, bool(self._get("table/sort_descending", False, bool))) if column >= 0 else None

    @sort.setter
    def sort(self, value: tuple[int, bool] | None) -> None:
        column, descending = value if value is not None else (-1, False)
        self.store.setValue("table/sort_column", column)
        self.store.setValue("table/sort_descending", descending)

    @property
    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.store.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self.store.setValue("window/state", value)

    def sync(self) -> None:
        self.store.sync()
