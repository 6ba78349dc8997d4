"""About: what the app is, the paper to cite (the question a booth hears most after "how does it
work?"), the keyboard shortcuts, read from the actions themselves, and the versions in use."""

from __future__ import annotations

import platform
import sys
from html import escape
from typing import Iterable

import pyqtgraph as pg
import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from .. import theme
from ..resources import app_version

__all__ = ["AboutDialog", "BIBTEX", "about_html"]

PAPER = ("Le Yang, Yizeng Han, Xi Chen, Shiji Song, Jifeng Dai, Gao Huang: <i>Resolution Adaptive Networks for "
         "Efficient Inference</i>. CVPR 2020. arXiv:2003.07326")
BIBTEX = """@inproceedings{yang2020resolution,
  title     = {Resolution Adaptive Networks for Efficient Inference},
  author    = {Yang, Le and Han, Yizeng and Chen, Xi and
               Song, Shiji and Dai, Jifeng and Huang, Gao},
  booktitle = {IEEE/CVF Conference on Computer Vision and
               Pattern Recognition (CVPR)},
  year      = {2020}
}"""


def _shortcuts(actions: Iterable[QAction]) -> str:
    rows = []
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append(f"<tr><td style='padding-right:16px'><b>{escape(' or '.join(keys))}</b></td>"
                        f"<td>{escape(action.text().replace('&', '').rstrip('…'))}</td></tr>")
    return "<table cellspacing=3>" + "".join(rows) + "</table>"


def about_html(actions: Iterable[QAction]) -> str:
    torch = sys.modules.get("torch")  # loaded by the model's worker; never imported for this page
    versions = [f"RANet Demo {escape(app_version())}", f"Python {platform.python_version()}",
                f"PySide6 {PySide6.__version__} (Qt {qVersion()})", f"pyqtgraph {pg.__version__}"]
    if torch is not None:
        versions.append(f"torch {escape(str(torch.__version__))}")
    return f"""
    <h2 style='color:{theme.ACCENT}'>RANet Demo</h2>
    <p>Resolution adaptive early exit, live: a cheap low-resolution sub-network answers the easy images,
    only the hard ones go on into the finer flows. Drop images or folders on the window and move the
    threshold.</p>
    <h3>The paper</h3><p>{PAPER}</p>
    <pre>{escape(BIBTEX)}</pre>
    <h3>Keyboard</h3>{_shortcuts(actions)}
    <h3>Versions</h3><p style='color:{theme.MUTED}'>{' · '.join(versions)}</p>
    """


class AboutDialog(QDialog):
    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About RANet Demo")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_html(actions))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy citation (BibTeX)", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(BIBTEX))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        scale = theme.font_scale()
        self.resize(round(800 * scale), round(720 * scale))  # the BibTeX lines unbroken
