"""Settings persist between runs, in the folder tests point them to."""

from __future__ import annotations

from app.main_window import MainWindow
from app.settings import Settings


def test_threshold_and_folders_persist(qtbot, isolated_settings):
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.slider.setValue(0.777)
    w.settings.last_folder = "/some/where"
    w.close()
    assert (isolated_settings / "ranet-demo.ini").is_file()
    again = Settings()
    assert abs(again.threshold - 0.777) < 1e-9 and again.last_folder == "/some/where" and again.device == "cpu"
    assert again.geometry is not None


def test_the_table_order_persists(qtbot, isolated_settings):
    from PySide6.QtCore import Qt

    from app.results_model import Column

    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.results.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    w.close()
    again = MainWindow(device="cpu")
    qtbot.addWidget(again)
    header = again.results.horizontalHeader()
    assert again.controller.results.sorted_by == (Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    assert header.sortIndicatorSection() == Column.CONFIDENCE and header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    again.results.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # back to the order images came in
    again.close()
    assert Settings().sort is None


def test_recent_models_keep_six_newest_first_and_ignore_foreign_values(isolated_settings):
    from PySide6.QtCore import QSettings

    from app.settings import MAX_RECENT_MODELS

    settings = Settings()
    settings.recent_models = ["/a.pt"]
    settings.sync()
    assert Settings().recent_models == ["/a.pt"]  # an ini file stores a list of one as a plain value
    settings.recent_models = [f"/m{i}.pt" for i in range(9)] + ["/m0.pt"]
    assert settings.recent_models == [f"/m{i}.pt" for i in range(MAX_RECENT_MODELS)]
    store = QSettings(str(isolated_settings / "ranet-demo.ini"), QSettings.Format.IniFormat)
    store.setValue("recent_models", 42)
    assert Settings(store).recent_models == []
