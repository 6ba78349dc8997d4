"""The PyInstaller bundle: build it from build_app.spec, run its self-test as a user without Python would.

Two flavours on Linux: the one this environment's torch gives (the CUDA build, with a CUDA torch),
and the CPU build, from a fresh virtual environment with a CPU-only torch, whenever one can be
installed (pip finds it through its configured indexes, e.g. PyTorch's CPU wheel index; the
requirement is ``RANET_CPU_TORCH``, default ``torch==2.13.0+cpu``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from testsupport import SAMPLES
from ranet.checkpoints import read_checkpoint
from ranet.images import scan_images
from ranet.weights import DEFAULT_WEIGHTS_NAME

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from make_archive import folder_size, is_cuda_build, make_archive  # noqa: E402
from spec_config import ICON_IN_BUNDLE, desktop_entry, spec_config  # noqa: E402

WEIGHTS = ROOT / "weights" / DEFAULT_WEIGHTS_NAME
NAME = "RANetDemo"
MAX_BYTES = 3.5e9  # the Linux CUDA build measured 3.41e9
MAX_CPU_BYTES = 700e6  # the Linux CPU build: the bound
CPU_TORCH = os.environ.get("RANET_CPU_TORCH", "torch==2.13.0+cpu")
LINUX = sys.platform.startswith("linux")

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.slow,
    pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"{WEIGHTS.relative_to(ROOT)} not found: the bundle embeds "
                       "the trained model, so train it (or copy it there) before building"),
]


def _clean_env(home: Path) -> dict[str, str]:
    """What a double-click gets: no project venv on PATH, no PYTHONPATH, a fresh HOME."""
    env = {"PATH": os.pathsep.join(["/usr/bin", "/bin"]) if os.name != "nt" else os.environ.get("SystemRoot", ""),
           "HOME": str(home), "USERPROFILE": str(home), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    for key in ("SystemRoot", "TMPDIR", "TEMP", "TMP", "CUDA_VISIBLE_DEVICES"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _build(python: str, tmp_path: Path) -> Path:
    """``pyinstaller build_app.spec`` with ``python``'s environment; the app folder."""
    dist, work = tmp_path / "dist", tmp_path / "build"
    env = {k: v for k, v in os.environ.items() if k not in ("RANET_BUNDLE_WEIGHTS", "VIRTUAL_ENV", "PYTHONPATH")}
    build = subprocess.run([python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                            "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build_app.spec")],
                           cwd=ROOT, capture_output=True, text=True, timeout=1800, env=env)
    assert build.returncode == 0, build.stderr[-4000:]
    shutil.rmtree(work, ignore_errors=True)  # gigabytes, no longer needed
    return dist / NAME


def _check_contents(app: Path) -> Path:
    """What every build holds; the executable."""
    exe = app / spec_config(sys.platform).executable
    assert exe.is_file()
    internal = app / "_internal"
    assert (internal / "weights" / DEFAULT_WEIGHTS_NAME).read_bytes() == WEIGHTS.read_bytes()
    assert (internal / "assets" / "icons" / "ranet.png").is_file()
    assert not (internal / "triton").exists() and not (internal / "torchvision").exists()
    assert not (internal / "torch" / "test").exists() and not (internal / "PySide6" / "Qt" / "translations").exists()
    if LINUX:  # the launcher a file manager starts, with the icon it points at
        launcher = app / "RANetDemo.desktop"
        assert launcher.read_text(encoding="utf-8") == desktop_entry(spec_config("linux"))
        assert os.access(launcher, os.X_OK) and (app / ICON_IN_BUNDLE).is_file()
    return exe


def _selftest(exe: Path, tmp_path: Path) -> dict:
    """``--selftest`` with a clean environment; every check on its report that holds for any build."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**_clean_env(home), "LD_BIND_NOW": "1"}  # a missing function in a stand-in fails the start
    run = subprocess.run([str(exe), "--selftest"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from the self-test (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-4000:]}"
    report = json.loads(lines[-1])
    assert report["ok"] is True, report
    assert run.returncode == 0
    internal = exe.parent / "_internal"
    assert report["images"] == len(list(scan_images([SAMPLES]))) == len(list(scan_images([internal / "assets"
                                                                                           / "samples"])))
    assert report["errors"] == 0
    assert report["device"]
    assert report["model"] == read_checkpoint(WEIGHTS)["meta"]["name"]
    assert report["version"] == metadata.version("ranet-demo")  # the bundle carries its metadata (Help › About)
    return report


def test_bundle_builds_and_classifies_the_samples(tmp_path):
    """The flavour of this environment's torch (on Linux with a CUDA torch: the CUDA build)."""
    app = _build(sys.executable, tmp_path)
    exe = _check_contents(app)
    internal = app / "_internal"
    assert folder_size(app) < MAX_BYTES, f"bundle is {folder_size(app) / 1e9:.2f} GB"
    if (internal / "nvidia").is_dir():  # a Linux CUDA build
        # Stand-in CUDA libraries must define every function the bundled libraries import:
        # resolving all symbols at load time turns a missing one into a failed start.
        stubs = [p for p in internal.rglob("lib*.so*") if not p.is_symlink() and p.stat().st_size < 100_000
                 and p.name.startswith(("libcurand", "libcusparseLt"))]
        assert len(stubs) == 2, stubs
        assert is_cuda_build(app)
    _selftest(exe, tmp_path)


def _pip(venv_python: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_python), "-m", "pip", "install", "--disable-pip-version-check", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cpu_venv(tmp_path) -> Path:
    """A fresh virtual environment with a CPU-only torch and the project, installed the documented
    way (docs/packaging.md): the CPU torch first, then the project with its build extra."""
    if not LINUX:
        pytest.skip("the CPU flavour is a Linux build (Windows and macOS builds are CPU or MPS anyway)")
    venv = tmp_path / "cpu-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    torch = _pip(python, CPU_TORCH)
    if torch.returncode != 0:
        reason = (torch.stderr.strip().splitlines() or ["pip failed"])[-1]
        pytest.skip(f"no CPU-only torch to install here ({CPU_TORCH}: {reason}); "
                    "pip needs PyTorch's CPU wheel index or a local copy of that wheel")
    version = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    constraints = tmp_path / "keep-cpu-torch.txt"
    constraints.write_text(f"torch=={version}\n")  # nothing below may swap it for a CUDA build
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if any(req.startswith("torchvision") for req in project["dependencies"]):
        # Until torchvision is an optional extra: the project without its dependencies, then the rest.
        others = [r for r in project["dependencies"] + project["optional-dependencies"]["build"]
                  if not r.startswith(("torch>", "torch=", "torch ", "torchvision"))]
        steps = [("--no-deps", "-e", "."), ("-c", str(constraints), *others)]
    else:
        steps = [("-c", str(constraints), "-e", ".[build]")]
    for args in steps:
        done = _pip(python, *args)
        assert done.returncode == 0, done.stderr[-4000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                            check=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert "torchvision" not in names and not [n for n in names if n.startswith("nvidia")], sorted(names)
    assert subprocess.run([str(python), "-c", "import torch, sys; sys.exit(torch.version.cuda is not None)"],
                          timeout=300).returncode == 0, f"{version} is not a CPU-only torch"
    return python


def test_cpu_bundle_builds_small_and_classifies_on_the_cpu(cpu_venv, tmp_path):
    app = _build(str(cpu_venv), tmp_path)
    exe = _check_contents(app)
    internal = app / "_internal"
    assert not (internal / "nvidia").exists() and not list(internal.rglob("libtorch_cuda*"))
    assert not is_cuda_build(app)
    assert folder_size(app) <= MAX_CPU_BYTES, f"CPU bundle is {folder_size(app) / 1e6:.0f} MB"
    report = _selftest(exe, tmp_path)
    assert report["device"].lower().startswith("cpu"), report["device"]

    archive = make_archive(app.parent)
    assert archive.name == "RANetDemo-linux-cpu.tar.gz"
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["RANetDemo/RANetDemo"].mode & 0o111 and members["RANetDemo/RANetDemo.desktop"].mode & 0o111
    assert f"RANetDemo/{ICON_IN_BUNDLE}" in members
