"""The entry points limit how long OpenMP threads spin before torch starts (see ranet.threads)."""

from __future__ import annotations

import os
import subprocess
import sys


def _environment_of_torch_after(entry: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    code = f"{entry}\nimport os, torch\nprint(os.environ.get('GOMP_SPINCOUNT'))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def test_the_commands_and_the_app_limit_spinning_before_torch():
    assert _environment_of_torch_after("import ranet.commands.cli") == "10000"
    app = _environment_of_torch_after("import app.main; assert app.main.main(['--selftest']) == 0")
    assert app.splitlines()[-1] == "10000"  # after the self-test's JSON line
    assert _environment_of_torch_after("import ranet") == "None"  # the library alone leaves it to the user


def test_a_spin_count_the_user_chose_is_kept():
    env = {**os.environ, "GOMP_SPINCOUNT": "300000"}
    out = subprocess.run([sys.executable, "-c", "import ranet.commands.cli, os; print(os.environ['GOMP_SPINCOUNT'])"],
                         env=env, capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    assert out == "300000"
