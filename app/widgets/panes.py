"""The window's two panes: the table and the selected image above, the plots below."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

from .. import theme

__all__ = ["Panes"]

PLOTS_MAX_PX = 260  # the plots' share of the height at normal font size, when there is room


class Panes(QSplitter):
    """A vertical splitter that shares its height out itself until the user drags the divider.

    Height goes to the selected image first (its path through the network is the story): the
    ``detail`` panel asks for half-way between its minimum and its preferred height, the plots
    get the rest, between their minimum and :data:`PLOTS_MAX_PX` at normal font size. Leaving
    presentation mode puts the divider back where it was whenever the panes are at that size
    again, until the user drags it."""

    def __init__(self, top: QWidget, plots: QWidget, detail: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.addWidget(top)
        self.addWidget(plots)
        self.setSizes([640, PLOTS_MAX_PX])
        self._plots, self._detail = plots, detail
        self._user_split = False
        self._presenting = False
        self._normal_split: tuple[list[int], bool] | None = None  # the divider before presentation mode
        self.splitterMoved.connect(self._split_by_user)

    def set_presenting(self, on: bool) -> None:
        """Entering presentation mode remembers the divider; leaving it brings it back."""
        if on:
            self._normal_split = (self.sizes(), self._user_split)
        elif self._normal_split is not None:
            self._user_split = self._normal_split[1]
        self._presenting = on

    def refit(self) -> None:
        """The divider again for the current size (after the fonts changed, say)."""
        self._fit(self.height() - self.handleWidth())

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Before the splitter shares out its new height itself.
        self._fit(event.size().height() - self.handleWidth())
        super().resizeEvent(event)

    def _split_by_user(self) -> None:
        self._user_split = True
        if not self._presenting:
            self._normal_split = None

    def _fit(self, total: int) -> None:
        if self._normal_split is not None and not self._presenting and sum(self._normal_split[0]) == total:
            # Kept, not forgotten: a re-layout queued by the mode change may come after this.
            self.setSizes(self._normal_split[0])
        elif not self._user_split:
            self._share_height(total)

    def _share_height(self, total: int) -> None:
        least = self._plots.minimumSizeHint().height()
        if total < least + self.widget(0).minimumSizeHint().height():
            return  # not laid out yet
        detail = (self._detail.minimumSizeHint().height() + self._detail.sizeHint().height()) // 2
        plots = min(round(PLOTS_MAX_PX * theme.font_scale()), max(least, total - detail))
        self.setSizes([total - plots, plots])
