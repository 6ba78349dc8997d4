"""PyInstaller hook for the ``ranet`` package (build_app.spec).

``ranet/__init__.py`` imports its public names on first use (``importlib.import_module``), which
PyInstaller's import scan cannot follow: without this, a module that only the lazy table names
(e.g. ``ranet.device``) is left out and the bundled app fails when it loads the model. All of the
library's modules are collected; the command-line tools (``ranet.commands``: training, evaluation,
plots) are not, since the app never runs them.
"""

from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules(
    "ranet", filter=lambda name: not (name == "ranet.commands" or name.startswith(("ranet.commands.", "ranet.__main__"))))
