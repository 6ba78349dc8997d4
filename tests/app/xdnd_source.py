"""A small window whose mouse press drags a folder's URL (``python xdnd_source.py FOLDER X Y``):
the other side of a real XDND drop in test_e2e_xvfb. Prints the drop's action, then keeps running
until terminated: the target reads the dropped data from it after the drag has ended here."""

from __future__ import annotations

import sys

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel

TITLE = "xdnd source"


class Source(QLabel):
    def __init__(self, folder: str) -> None:
        super().__init__(f"drag {folder}")
        self.folder = folder
        self.setWindowTitle(TITLE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.resize(160, 80)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(self.folder)])
        drag = QDrag(self)
        drag.setMimeData(mime)
        print(f"dropped {drag.exec(Qt.DropAction.CopyAction).name}", flush=True)


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    source = Source(sys.argv[1])
    source.move(int(sys.argv[2]), int(sys.argv[3]))
    source.show()
    print("ready", flush=True)
    sys.exit(app.exec())
