"""Folder scans stay inside what the user gave: folder links are followed only while they stay
inside the dropped or named tree, and every file is listed once, by its real path; in the
library and in ``ranet classify``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ranet.images import scan_images
from testsupport import linked_tree

ROOT = Path(__file__).resolve().parents[1]


def test_scan_stays_inside_the_tree_and_lists_each_file_once(tmp_path):
    drop, expected = linked_tree(tmp_path)
    assert list(scan_images([drop])) == expected
    assert list(scan_images([drop, drop / "sub", drop / "l2.png"])) == expected  # named again: still once


def test_classify_command_stays_inside_the_tree(tmp_path, tiny_weights):
    drop, expected = linked_tree(tmp_path)
    run = subprocess.run([sys.executable, "-m", "ranet", "classify", "--json", "--weights", str(tiny_weights),
                          str(drop)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["path"] for line in run.stdout.splitlines()] == [str(p) for p in expected]
