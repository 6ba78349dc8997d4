"""Every QAction of the window, built once: menus, the toolbar and shortcuts share the objects,
and groups of them are enabled together (needs a model, needs results)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, NamedTuple

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar, QWidget

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["Actions", "new_action", "add_actions", "create_actions"]

THRESHOLD_KEY_STEP = 0.01


def new_action(parent: QWidget, text: str, slot: Callable | None = None, shortcut: str | QKeySequence.StandardKey |
               list | None = None, icon: QStyle.StandardPixmap | None = None, tip: str | None = None,
               checkable: bool = False, enabled: bool = True, short: str | None = None) -> QAction:
    """``short``: the toolbar's text, where the menu's would be too long."""
    action = QAction(text, parent)
    if short:
        action.setIconText(short)
    if icon is not None:
        action.setIcon(parent.style().standardIcon(icon))
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.setCheckable(checkable)
    action.setEnabled(enabled)
    if slot is not None:
        action.triggered.connect(slot)
    return action


def add_actions(widget: QMenu | QToolBar, actions: Iterable[QAction | None]) -> None:
    """``None`` is a separator."""
    for action in actions:
        if action is None:
            widget.addSeparator()
        else:
            widget.addAction(action)


class Actions(NamedTuple):
    samples: QAction
    open_images: QAction
    open_folder: QAction
    paste: QAction
    clear: QAction
    undo_clear: QAction
    remove_image: QAction
    load_model: QAction
    load_run: QAction
    embedded_model: QAction
    model_card: QAction
    class_breakdown: QAction
    confusion: QAction
    export_csv: QAction
    export_json: QAction
    save_plots: QAction
    cancel: QAction
    threshold_up: QAction
    threshold_down: QAction
    next_budget: QAction
    next_filter: QAction
    presentation: QAction
    auto_demo: QAction
    about: QAction
    quit: QAction

    @property
    def needs_model(self) -> tuple[QAction, ...]:
        return (self.samples, self.open_images, self.open_folder, self.paste, self.model_card, self.class_breakdown,
                self.confusion)

    @property
    def needs_results(self) -> tuple[QAction, ...]:
        return self.clear, self.remove_image, self.export_csv, self.export_json, self.save_plots

    @staticmethod
    def set_enabled(group: Iterable[QAction], on: bool) -> None:
        for action in group:
            action.setEnabled(on)


def create_actions(w: MainWindow) -> Actions:
    sp = QStyle.StandardPixmap
    return Actions(
        samples=new_action(w, "&Samples", w.load_samples, "Ctrl+D", sp.SP_DirHomeIcon,
                           "Classify the bundled Fashion-MNIST samples", enabled=False),
        open_images=new_action(w, "Open &images…", w.open_images, QKeySequence.StandardKey.Open, sp.SP_FileIcon,
                               "Classify image files", enabled=False),
        open_folder=new_action(w, "Open &folder…", w.open_folder, "Ctrl+Shift+O", sp.SP_DirOpenIcon,
                               "Classify every image in a folder and its subfolders", enabled=False),
        paste=new_action(w, "&Paste image", w.paste, QKeySequence.StandardKey.Paste, None,
                         "Classify the image or files on the clipboard", enabled=False),
        clear=new_action(w, "C&lear results", w.clear_results, "Ctrl+Shift+Del", sp.SP_DialogResetButton,
                         "Remove every result (Edit › Undo brings them back)", enabled=False),
        undo_clear=new_action(w, "&Undo clear results", w.controller.undo_clear, QKeySequence.StandardKey.Undo, None,
                              "Bring back the results just cleared", enabled=False),
        remove_image=new_action(w, "&Remove image from the list", w.controller.remove_selected, [QKeySequence.StandardKey.Delete, "Backspace"],
                                None, "Forget the selected image (the next one is selected)", enabled=False),
        load_model=new_action(w, "&Load model…", w.open_model, "Ctrl+M", sp.SP_ComputerIcon,
                              "Load a weights file (.pt) or an authors' checkpoint (.pth.tar)"),
        load_run=new_action(w, "Load &run folder…", w.open_run_folder, None, None,
                            "Load an authors' run folder (args.txt and save_models/)"),
        embedded_model=new_action(w, "&Embedded model", lambda: w.load_model(None), None, None,
                                  "Go back to the model that ships with the app"),
        model_card=new_action(w, "Model &card", w.show_model_card, "Ctrl+I", sp.SP_FileDialogInfoView,
                              "What the loaded model is: categories, per-exit cost and accuracy, recipe", enabled=False),
        class_breakdown=new_action(w, "Exits by &class", w.show_class_breakdown, "C", None,
                                   "For each class, the share of its images that left at each exit, cheapest "
                                   "class first (follows the threshold)", enabled=False, short="By class"),
        confusion=new_action(w, "Confusion &matrix", w.show_confusion, "M", None,
                             "For the labelled images, each label against the answer at the exit taken "
                             "(follows the threshold); click a cell to list its images", enabled=False),
        export_csv=new_action(w, "Export results as &CSV…", w.export_csv, "Ctrl+E", sp.SP_DialogSaveButton,
                              "Save every result as a CSV table", enabled=False, short="Export CSV"),
        export_json=new_action(w, "Export results as &JSON…", w.export_json, "Ctrl+Shift+E", None,
                               "Save every result as JSON", enabled=False),
        save_plots=new_action(w, "Save &plots as PNG…", w.save_plots, "Ctrl+Shift+S", None,
                              "Save the plots as an image", enabled=False),
        cancel=new_action(w, "Cancel", w.controller.cancel, "Esc", sp.SP_BrowserStop, "Stop the background work",
                          enabled=False),
        threshold_up=new_action(w, "Raise threshold", lambda: w.slider.step(THRESHOLD_KEY_STEP), ["+", "="]),
        threshold_down=new_action(w, "Lower threshold", lambda: w.slider.step(-THRESHOLD_KEY_STEP), ["-", "_"]),
        next_budget=new_action(w, "Next calibrated &budget", w.next_budget, "B", None,
                               "Step through the model's calibrated FLOPs budgets, then back to the slider",
                               enabled=False),
        next_filter=new_action(w, "Next &filter", w.filter_bar.choose_next, "F", None,
                               "Step through what the table shows: all images, the wrong answers, then each exit's "
                               "images"),
        presentation=new_action(w, "&Presentation mode", w.set_presentation, "F11", None,
                                "Full screen with larger fonts", checkable=True),
        auto_demo=new_action(w, "&Auto demo when idle", w.set_auto_demo, "F9", None,
                             "Step through the images when nobody has touched the app for a while", checkable=True),
        about=new_action(w, "&About RANet Demo", w.show_about, "F1", None,
                         "The paper to cite, the keyboard shortcuts and the versions in use"),
        quit=new_action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit),
    )
