"""The library stands without the GUI: ``import ranet`` loads no Qt binding and no pyqtgraph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter (this one has the app's modules loaded by other tests). After the
# check, pyqtgraph is imported on purpose, to show that the check would see it.
PROBE = """
import json, sys
GUI = ("PySide6", "shiboken6", "pyqtgraph")
def gui():
    return sorted(m for m in sys.modules if m.split(".")[0] in GUI)
import ranet
after_ranet = gui()
import pyqtgraph
print(json.dumps({"file": ranet.__file__, "after_ranet": after_ranet, "after_pyqtgraph": gui()}))
"""


def test_import_ranet_loads_no_gui_modules():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(probe["file"]).resolve().parent == ROOT / "ranet"  # this tree's library, not an installed copy
    assert probe["after_ranet"] == [], f"import ranet pulled in {probe['after_ranet']}"
    assert "pyqtgraph" in probe["after_pyqtgraph"]  # the probe sees a GUI module once one is loaded
