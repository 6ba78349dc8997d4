"""The library stands apart from its commands and from Qt: a module of ``ranet`` (outside
``ranet.commands``) imports neither the commands, nor the app, nor Qt or pyqtgraph."""

from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "ranet"
FORBIDDEN = ("ranet.commands", "app", "PySide6", "pyqtgraph", "shiboken6")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "ranet" if node.level else ""
            names.add(f"{base}.{node.module}" if base and node.module else node.module or base)
    return names


def test_library_modules_import_no_command_and_no_qt():
    modules = [p for p in LIBRARY.glob("*.py") if p.name != "__main__.py"]  # `python -m ranet`: the commands
    assert len(modules) > 10
    for path in modules:
        bad = {name for name in _imports(path) if name and name.split(".")[0] in FORBIDDEN
               or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
        assert not bad, f"ranet/{path.name} imports {sorted(bad)}"
