"""The RANet demo app: a PySide6 + pyqtgraph window over :mod:`ranet`'s early-exit engine.

Nothing here imports torch at import time: the window shows first and the model loader, a
background worker, pays for the torch import.
"""
