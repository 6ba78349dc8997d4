"""The model card dialog: the loaded model's weights record, rendered by :func:`ranet.card.model_card`
(the same Markdown as ``weights/MODEL_CARD.md``), under a line that says where it was loaded from
and where it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from .. import theme

if TYPE_CHECKING:
    from ..workers import LoadedModel

__all__ = ["model_card_markdown", "ModelCardDialog"]


def model_card_markdown(loaded: LoadedModel) -> str:
    # Imported here: the window shows before torch is imported, and this dialog needs a loaded model.
    from ranet.card import model_card

    where = loaded.model.meta.source or loaded.source
    return f"*Loaded from `{where}`, running on {loaded.device}.*\n\n{model_card(loaded.model.meta)}"


class ModelCardDialog(QDialog):
    def __init__(self, loaded: LoadedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model card: {loaded.model.meta.name}")
        scale = theme.font_scale()
        self.resize(int(860 * scale), int(680 * scale))
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(model_card_markdown(loaded))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
