"""The main window: composes the widgets, wires them to the controller, handles drops and dialogs.

All work happens in :class:`~app.controller.Controller`'s workers; nothing here runs torch or
reads an image file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QModelIndex, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragLeaveEvent, QDropEvent, QImage, QResizeEvent
from PySide6.QtWidgets import (QApplication, QDialog, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from . import export, theme
from .actions import Actions, add_actions, create_actions
from .auto_demo import AutoDemo
from .controller import Controller
from .resources import samples_dir
from .row_filter import UNREADABLE, WRONG, confused, confused_pair, predicted, predicted_class
from .settings import Settings
from .widgets import (AboutDialog, BudgetPicker, ClassBreakdown, ConfusionMatrix, DetailPanel, FilterBar, FittingScrollArea, ModelCardDialog, PlotsPanel,
                      RecentModelsMenu, ResultsView, ThresholdSlider)
from .widgets.drop_hint import DropHint
from .widgets.panes import Panes
from .workers import LoadedModel, Pixels

log = logging.getLogger(__name__)

__all__ = ["MainWindow", "MODEL_SUFFIXES"]

MODEL_SUFFIXES = (".pt", ".pth", ".tar")
COMPACT_BELOW_PX = 920  # window height (at normal font size) under which the detail panel compacts
# Logged (to stderr and the log file) as the status bar says so: startup benchmarks and end-to-end tests wait for it.
MODEL_LOADED = "model loaded"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


def sentence(text: str) -> str:
    """``text`` ending as a sentence does (its first word may be a file name: left as it is)."""
    text = text.strip()
    return text + "." if text and text[-1] not in ".!?…" else text


def _model_path(mime: QMimeData) -> str | None:
    """The model file or authors' run folder dropped alone, if that is what ``mime`` holds."""
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    if len(paths) == 1 and (paths[0].lower().endswith(MODEL_SUFFIXES) or (Path(paths[0]) / "args.txt").is_file()):
        return paths[0]
    return None


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, device: str | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.device = device or self.settings.device
        self.controller = Controller(self.settings.threshold, self)
        self.setWindowTitle("RANet: resolution adaptive early exit")
        self.setAcceptDrops(True)
        self._pasted = 0
        self._user_load = False  # a failed load the user asked for gets a dialog; at start-up a banner
        self._start_budget: str | None = None  # --budget, applied once the first model is in

        self.slider = ThresholdSlider(self.settings.threshold, self)
        self.budget_picker = BudgetPicker(self)
        self.results = ResultsView(self)
        self.results.setModel(self.controller.results)
        self.filter_bar = FilterBar(self)
        self.detail = DetailPanel(self)
        self.plots = PlotsPanel(self)
        self.class_breakdown = ClassBreakdown(self)
        self.confusion = ConfusionMatrix(self)
        self.banner = QLabel(self)
        self.banner.setProperty("role", "banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.drop_hint = DropHint(self)

        self.actions = create_actions(self)
        self.results.row_actions = [self.actions.remove_image]
        self._build_layout()
        self._build_menus()
        self._build_status_bar()
        self.auto_demo = AutoDemo(self.controller.demo_step, parent=self)
        self._wire()
        self._restore_sort()
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        else:
            free = self.screen().availableGeometry()
            self.resize(min(1560, free.width()), min(980, free.height() - 40))  # 40: the window's title bar

    # -- construction ----------------------------------------------------------------------
    def _build_layout(self) -> None:
        top = QSplitter(Qt.Orientation.Horizontal, self)
        table = QWidget(self)
        column = QVBoxLayout(table)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.filter_bar)
        column.addWidget(self.results)
        top.addWidget(table)
        top.addWidget(FittingScrollArea(self.detail, self))
        top.setStretchFactor(0, 5)
        top.setStretchFactor(1, 6)
        top.setSizes([780, 760])
        self.panes = Panes(top, self.plots, self.detail, self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.banner)
        policy = QHBoxLayout()
        policy.setContentsMargins(0, 0, 10, 0)
        policy.addWidget(self.slider, 1)
        policy.addWidget(self.budget_picker)
        layout.addLayout(policy)
        layout.addWidget(self.panes, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        add_actions(bar.addMenu("&File"), [a.samples, a.open_images, a.open_folder, a.paste, None, a.export_csv,
                                           a.export_json, a.save_plots, None, a.cancel, None, a.quit])
        add_actions(bar.addMenu("&Edit"), [a.undo_clear, None, a.remove_image, a.clear])
        model_menu = bar.addMenu("&Model")
        add_actions(model_menu, [a.load_model, a.load_run, a.embedded_model])
        self.recent_menu = RecentModelsMenu(model_menu)
        self.recent_menu.set_paths(self.settings.recent_models)
        self.recent_menu.chosen.connect(self.open_recent)
        self.recent_menu.cleared.connect(lambda: self._set_recent([]))
        model_menu.addMenu(self.recent_menu)
        add_actions(model_menu, [None, a.model_card])
        add_actions(bar.addMenu("&View"), [a.threshold_up, a.threshold_down, a.next_budget, a.next_filter, None,
                                           a.class_breakdown, a.confusion, None, a.presentation, a.auto_demo])
        add_actions(bar.addMenu("&Help"), [a.about])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        add_actions(toolbar, [a.samples, a.open_images, a.open_folder, None, a.load_model, a.model_card, None,
                              a.class_breakdown, a.export_csv, a.presentation])
        self.addActions([a.threshold_up, a.threshold_down, a.next_budget, a.next_filter, a.class_breakdown, a.confusion,
                         a.cancel])  # shortcuts work without a menu open

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.device_label, self.model_label, self.flops_label, self.count_label = (QLabel(self) for _ in range(4))
        for label in (self.device_label, self.model_label, self.flops_label, self.count_label):
            bar.addPermanentWidget(label)
        self.count_label.setToolTip("Click the unreadable count to list those images with the reason")
        self.count_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.count_label.linkActivated.connect(lambda _link: self.controller.set_filter(UNREADABLE))
        self.progress = QProgressBar(self)
        self.progress.setFixedWidth(self.fontMetrics().horizontalAdvance("Computing remaining exits: 00000 / 00000") + 24)
        self.progress.hide()
        self.cancel_button = QToolButton(self)
        self.cancel_button.setDefaultAction(self.actions.cancel)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.device_label.setText("Starting…")

    def _wire(self) -> None:
        c = self.controller
        c.modelLoading.connect(lambda what: self.statusBar().showMessage(f"Loading {what}…"))
        c.modelChanged.connect(self._model_changed)
        c.modelFailed.connect(self._model_failed)
        c.progress.connect(self._progress)
        c.busyChanged.connect(self._busy)
        c.rowsAdded.connect(self._rows_added)
        c.decisionsChanged.connect(self._refresh)
        c.curvesChanged.connect(self._refresh_curves)
        c.errored.connect(lambda message: self.show_error("Background work failed", message))
        c.notice.connect(lambda message: self.statusBar().showMessage(message, 8000))
        c.previews.ready.connect(self._preview_ready)
        self.slider.valueChanged.connect(c.set_threshold)
        self.budget_picker.budgetChosen.connect(c.set_budget)
        c.budgetChanged.connect(self._budget_changed)
        self.results.selectionModel().currentRowChanged.connect(self._current_changed)
        c.selectionChanged.connect(self._selection_changed)
        self.results.notice.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.filter_bar.filterChanged.connect(c.set_filter)
        c.filterChanged.connect(self._filter_changed)
        c.undoChanged.connect(self.actions.undo_clear.setEnabled)
        self.plots.exitClicked.connect(c.toggle_filter)
        self.class_breakdown.classClicked.connect(lambda category: c.toggle_filter(predicted(category)))
        self.class_breakdown.saveRequested.connect(self.save_class_chart)
        self.confusion.cellClicked.connect(lambda t, p: c.toggle_filter(confused(t, p)))
        self.confusion.saveRequested.connect(self.save_confusion)

    def _restore_sort(self) -> None:
        sort = self.settings.sort
        if sort is not None and sort[0] < self.controller.results.columnCount():  # a foreign value is ignored
            order = Qt.SortOrder.DescendingOrder if sort[1] else Qt.SortOrder.AscendingOrder
            self.results.sortByColumn(sort[0], order)

    # -- start-up and model ----------------------------------------------------------------
    def start(self, weights: str | None = None, budget: str | None = None) -> None:
        """Load ``weights`` (default: the embedded model) in the background, then decide with its
        calibrated thresholds for ``budget`` (e.g. "40%") when it has them."""
        self._user_load = weights is not None
        self._start_budget = budget
        self.controller.load_model(weights, self.device)

    def open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a model", self.settings.last_folder,
                                              "Models (*.pt *.pth *.tar);;All files (*)")
        if path:
            self.load_model(path)

    def open_run_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Load an authors' run folder", self.settings.last_folder)
        if path:
            self.load_model(path)

    def load_model(self, path: str | None) -> None:
        """Load a weights file, an authors' checkpoint or run folder; None: the embedded model."""
        self._user_load = True
        self.controller.load_model(path, self.device)

    def open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            self._set_recent([p for p in self.settings.recent_models if p != path])
            self.show_error("Cannot load the model", f"{path} is no longer there; it is off the recent models now.")
            return
        self.load_model(path)

    def _set_recent(self, paths: list[str]) -> None:
        self.settings.recent_models = paths
        self.recent_menu.set_paths(self.settings.recent_models)

    def _model_changed(self, loaded: LoadedModel) -> None:
        meta = loaded.model.meta
        if loaded.requested is not None:
            self._set_recent([os.path.abspath(loaded.requested), *self.settings.recent_models])
        budgets = list(self.controller.budgets())
        self.budget_picker.set_budgets(budgets)
        self.budget_picker.show_budget(self.controller.budget)
        self.actions.next_budget.setEnabled(bool(budgets))
        self.banner.hide()
        self.device_label.setText(loaded.device)
        self.model_label.setText(meta.name)
        self.flops_label.setText(f"full network {loaded.exits[-1].flops / 1e6:.1f} MFLOPs")
        self.detail.set_model(loaded.model.config, loaded.exits)
        self.plots.set_model(loaded.exits)
        self.class_breakdown.set_model(loaded.exits, meta.categories)
        self.confusion.set_model(meta.categories)
        self.filter_bar.set_model(loaded.exits, meta.categories)
        self._apply_filter()
        Actions.set_enabled(self.actions.needs_model, True)
        self.statusBar().showMessage(f"Loaded {meta.name}", 5000)
        log.info("%s: %s on %s", MODEL_LOADED, meta.name, loaded.device)
        if self._start_budget is not None:
            self._apply_start_budget(self._start_budget)
            self._start_budget = None

    def _model_failed(self, message: str) -> None:
        self._start_budget = None
        self.statusBar().clearMessage()
        if self._user_load or self.controller.loaded is not None:
            kept = " The previous model is kept." if self.controller.loaded is not None else ""
            self.show_error("Cannot load the model", sentence(message) + kept)
            return
        self.device_label.setText("No model")
        self.banner.setText(f"No model loaded. {sentence(message)} Load one with Model › Load model… "
                            "(or drop a .pt / .pth.tar file on the window).")
        self.banner.show()

    def show_class_breakdown(self) -> None:
        self._open_chart(self.class_breakdown)

    def show_confusion(self) -> None:
        self._open_chart(self.confusion)

    def _open_chart(self, chart: QDialog) -> None:
        self._refresh_charts(opening=chart)
        chart.show()
        chart.raise_()

    def _refresh_charts(self, opening: QDialog | None = None) -> None:
        """The chart windows follow the decisions while they are open (and the one opening)."""
        c = self.controller
        if c.session is None:
            return
        if opening is self.class_breakdown or self.class_breakdown.isVisible():
            self.class_breakdown.set_counts(*c.session.class_counts())
        if opening is self.confusion or self.confusion.isVisible():
            point = f"threshold {c.threshold:.3f}" if c.budget is None else f"the {c.budget} budget"
            self.confusion.set_counts(c.session.confusion(), point)

    def show_about(self) -> None:
        AboutDialog(self.actions, self).exec()

    def show_model_card(self) -> None:
        if self.controller.loaded is not None:
            ModelCardDialog(self.controller.loaded, self).exec()

    # -- inputs ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()
            model = _model_path(mime)
            self.drop_hint.show_over(self.centralWidget() if model else self.results,
                                     f"Drop to load {Path(model).name}" if model else "Drop to classify")

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_hint.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_hint.hide()
        if self.handle_mime(event.mimeData()):
            event.acceptProposedAction()

    def handle_mime(self, mime: QMimeData) -> bool:
        """Dropped or pasted: a model file loads it, files and folders are classified, pixels too."""
        model = _model_path(mime)
        if model:
            self.load_model(model)
            return True
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            return self.classify(paths)
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self._pasted += 1
                return self.classify([Pixels(f"pasted image {self._pasted}", image)])
        return False

    def classify(self, inputs: list) -> bool:
        if self.controller.classify(inputs) is None:
            self.statusBar().showMessage("Load a model first (Model › Load model…)", 5000)
            return False
        self.detail.name.add_folders(p for p in inputs if isinstance(p, str))  # paths are shown relative to them
        return True

    def load_samples(self) -> None:
        self.classify([str(samples_dir())])  # here, not the controller's: without a model it says so

    def open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Classify images", self.settings.last_folder, IMAGE_FILTER)
        if paths:
            self.settings.last_folder = str(Path(paths[0]).parent)
            self.classify(paths)

    def open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Classify a folder", self.settings.last_folder)
        if path:
            self.settings.last_folder = path
            self.classify([path])

    def paste(self) -> None:
        if not self.handle_mime(QApplication.clipboard().mimeData()):
            self.statusBar().showMessage("The clipboard holds no image or files", 4000)

    def clear_results(self) -> None:
        cleared = self.controller.clear()
        if cleared:
            self.statusBar().showMessage(f"Cleared {cleared:,} results. Edit › Undo clear results (Ctrl+Z) brings "
                                         "them back.", 10000)

    # -- results ---------------------------------------------------------------------------
    def _progress(self, what: str, done: int, total: int) -> None:
        text = f"{what}: %v / %m" if total else f"Scanning: {done} found"
        if text != self.progress.format():  # unchanged text and range: no re-layout
            self.progress.setFormat(text)
        if total != self.progress.maximum():
            self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.actions.cancel.setEnabled(busy)

    def _rows_added(self) -> None:
        """Counts and actions; the table, filter and charts follow from ``decisionsChanged``, which
        the controller emits with every batch of new rows."""
        session = self.controller.session
        n = len(session) if session else 0
        Actions.set_enabled(self.actions.needs_results, n > 0)
        errors = session.stats().errors if session else 0
        self.count_label.setText(f"{n} images" + (f", <a href='{UNREADABLE}' style='color:{theme.BAD}'>{errors} "
                                                  "unreadable</a>" if errors else ""))

    def selected_row(self) -> int | None:
        """The session row of the selected image, if any."""
        return self.controller.selected

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.controller.select(self.controller.results.session_row(current.row()) if current.isValid() else None)

    def _selection_changed(self, row: int | None) -> None:
        """The controller's selection: the table follows it, the detail panel shows it."""
        model, current = self.controller.results, self.results.currentIndex()
        if row is not None and model.view_row(row) >= 0 and (not current.isValid() or model.session_row(current.row()) != row):
            self.results.selectRow(model.view_row(row))
        self.detail.set_preview(self.controller.previews.get(row) if row is not None else None)
        self._refresh_detail()

    def _preview_ready(self, row: int) -> None:
        if row == self.selected_row():
            self.detail.set_preview(self.controller.previews.get(row))

    def next_budget(self) -> None:
        """The next of the model's calibrated budgets; after the last, the slider again."""
        order = [None, *self.controller.budgets()]
        self.controller.set_budget(order[(order.index(self.controller.budget) + 1) % len(order)])

    def _apply_start_budget(self, budget: str) -> None:
        try:
            self.controller.set_budget(self.controller.loaded.model.meta.budget(budget).label)
        except ValueError as exc:
            self.statusBar().showMessage(f"{exc}; the slider's threshold applies", 10000)

    def _budget_changed(self, budget: str | None) -> None:
        self.budget_picker.show_budget(budget)
        self.slider.set_in_force(budget is None)

    def _refresh(self) -> None:
        self._show_operating_point()
        self._apply_filter()
        self._refresh_detail()
        self._refresh_charts()

    def _filter_changed(self, show) -> None:
        self.filter_bar.show_filter(show)
        self._apply_filter()

    def _apply_filter(self) -> None:
        """What follows the controller's filter, brought up to date whenever rows arrive or decisions change."""
        session, show, model = self.controller.session, self.controller.row_filter, self.controller.results
        unlabelled = show == WRONG and session is not None and not (session.truth[:len(session)] >= 0).any()
        self.results.set_none_shown(ResultsView.NO_LABELS_TEXT if unlabelled else ResultsView.NONE_SHOWN_TEXT)
        self.filter_bar.set_counts(model.rowCount(), model.images)
        self.plots.highlight_exit(show if isinstance(show, int) else None)
        self.class_breakdown.highlight_class(predicted_class(show))
        self.confusion.highlight_cell(confused_pair(show))

    def _refresh_detail(self) -> None:
        row = self.selected_row()
        self.detail.show_detail(self.controller.session.detail(row) if row is not None else None,
                                self.controller.thresholds)

    def _show_operating_point(self) -> None:
        c = self.controller
        self.plots.set_operating_point(c.threshold if c.budget is None else None,
                                       c.session.stats() if c.session else None,
                                       c.session.curve_point() if c.session else None)

    def _refresh_curves(self) -> None:
        """The curves, and their markers again: both over the images with every exit computed."""
        session = self.controller.session
        self.plots.set_curves(session.curves() if session else None)
        self._show_operating_point()

    # -- export ----------------------------------------------------------------------------
    def _save_path(self, title: str, name: str, file_filter: str) -> str | None:
        folder = self.settings.export_folder or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / name), file_filter)
        if path:
            self.settings.export_folder = str(Path(path).parent)
        return path or None

    def export_csv(self, path: str | None = None) -> None:
        path = path or self._save_path("Export results", "ranet_results.csv", "CSV (*.csv)")
        if path:
            self._write(lambda: export.write_csv(path, self.controller.session.export_rows()), path)

    def export_json(self, path: str | None = None) -> None:
        path = path or self._save_path("Export results", "ranet_results.json", "JSON (*.json)")
        if path:
            c = self.controller
            self._write(lambda: export.write_json(path, c.session.export_rows(), c.export_about()), path)

    def save_plots(self, path: str | None = None) -> None:
        self._save_png(self.plots, "Save the plots", "ranet_plots.png", path)

    def save_class_chart(self, path: str | None = None) -> None:
        self._save_png(self.class_breakdown.chart, "Save the exits-by-class chart", "ranet_exits_by_class.png", path)

    def save_confusion(self, path: str | None = None) -> None:
        self._save_png(self.confusion.chart, "Save the confusion matrix", "ranet_confusion.png", path)

    def _save_png(self, widget: QWidget, title: str, name: str, path: str | None) -> None:
        """``widget`` as PNG at ``path``, or where a file dialog opened at ``name`` says."""
        path = path or self._save_path(title, name, "PNG image (*.png)")
        if path:
            self._write(lambda: export.save_png(widget, path), path)

    def _write(self, write, path: str) -> None:
        try:
            write()
        except OSError as exc:
            self.show_error("Cannot save", f"{path}: {exc.strerror or exc}")
        else:
            self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- layout ----------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_detail()

    def _fit_detail(self) -> None:
        """A short window (for its fonts) gets the compact detail panel."""
        self.detail.set_compact(self.height() < COMPACT_BELOW_PX * theme.font_scale())

    # -- booth -----------------------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """Full screen and larger fonts, or back to the window as it was, divider included."""
        self.panes.set_presenting(on)
        theme.apply(QApplication.instance(), presentation=on, screen_height=self.screen().geometry().height())
        self.showFullScreen() if on else self.showNormal()
        QTimer.singleShot(0, self._relayout)  # once the new fonts are laid out (the size may not change)

    def _relayout(self) -> None:
        """The detail panel's compactness and the divider, for the window's fonts and size."""
        self._fit_detail()
        self.panes.refit()

    def set_auto_demo(self, on: bool) -> None:
        self.auto_demo.set_enabled(on)

    def show_error(self, title: str, message: str) -> None:
        """A dialog with the whole message; the status bar, which would cut it off, names it only."""
        self.statusBar().showMessage(f"{title}.", 8000)
        QMessageBox.warning(self, title, sentence(message))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.threshold = self.slider.value()
        sorted_by = self.controller.results.sorted_by
        self.settings.sort = (int(sorted_by[0]), sorted_by[1] == Qt.SortOrder.DescendingOrder) if sorted_by else None
        self.settings.device = self.device
        if not self.isFullScreen():
            self.settings.geometry = self.saveGeometry()
        self.settings.sync()
        self.auto_demo.set_enabled(False)
        self.controller.shutdown()
        super().closeEvent(event)
