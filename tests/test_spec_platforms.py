"""build_app.spec on Windows, macOS and Linux, evaluated here: without PyInstaller, platform forced.

PyInstaller does not cross-compile and no Windows or macOS machine runs these tests, so the spec's
other branches are checked two ways: packaging/spec_config.py (what each platform gets) directly,
and the spec itself executed with sys.platform forced and PyInstaller's build steps replaced by
recorders, to see what it hands them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from spec_config import (ICON_IN_BUNDLE, archive_name, desktop_entry, project_version,  # noqa: E402
                         spec_config)

PLATFORMS = ["win32", "darwin", "linux"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
ICON_MAGIC = {".ico": b"\x00\x00\x01\x00", ".icns": b"icns", ".png": b"\x89PNG\r\n\x1a\n"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_gets_its_name_icon_and_no_console(platform):
    cfg = spec_config(platform)
    assert cfg.name == "RANetDemo"
    assert cfg.executable == {"win32": "RANetDemo.exe"}.get(platform, "RANetDemo")
    assert cfg.console is False
    assert cfg.icon.suffix == {"win32": ".ico", "darwin": ".icns", "linux": ".png"}[platform]
    assert cfg.icon.is_file()
    assert cfg.icon.read_bytes().startswith(ICON_MAGIC[cfg.icon.suffix])  # the format its name says
    assert cfg.version == VERSION
    assert {"torchvision", "triton"} <= set(cfg.excludes)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_linux_only_steps_stay_on_linux(platform):
    cfg = spec_config(platform)
    assert not cfg.strip_dirs and not cfg.cuda_stubs and not cfg.dlopened_cuda_libs
    assert cfg.desktop_file is None
    linux = spec_config("linux")
    assert linux.strip_dirs and linux.cuda_stubs and linux.dlopened_cuda_libs
    assert linux.desktop_file == "RANetDemo.desktop"


def test_macos_gets_an_app_bundle_with_identifier_retina_and_version():
    cfg = spec_config("darwin")
    bundle = cfg.bundle
    assert bundle["name"] == "RANetDemo.app"
    assert bundle["icon"] == str(cfg.icon) and cfg.icon.suffix == ".icns"
    identifier = bundle["bundle_identifier"]
    assert identifier.count(".") >= 2 and all(part.isidentifier() for part in identifier.split("."))
    plist = bundle["info_plist"]
    assert plist["NSHighResolutionCapable"] is True
    assert bundle["version"] == plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == VERSION
    assert spec_config("win32").bundle is None and spec_config("linux").bundle is None


def test_version_is_read_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.x]\nversion = "9"\n[project]\nname = "a"\nversion = "1.2.3"\n')
    assert project_version(tmp_path / "pyproject.toml") == "1.2.3"


def test_archives_are_named_by_os_and_flavour():
    assert archive_name("linux", cuda=False) == "RANetDemo-linux-cpu.tar.gz"
    assert archive_name("linux", cuda=True) == "RANetDemo-linux-cuda.tar.gz"
    assert archive_name("win32", cuda=False, machine="AMD64") == "RANetDemo-windows-x64.zip"
    assert archive_name("darwin", cuda=False, machine="arm64") == "RANetDemo-macos-arm64.zip"


# -- the spec itself, executed with the platform forced ------------------------------------------------

class _Recorder:
    """Stands in for one of PyInstaller's build steps: records its arguments."""

    def __init__(self, calls: list, kind: str):
        self.calls, self.kind = calls, kind

    def __call__(self, *args, **kwargs):
        self.calls.append((self.kind, args, kwargs))
        if self.kind == "Analysis":
            return types.SimpleNamespace(pure=[], scripts=[], binaries=list(FAKE_BINARIES), datas=[
                ("torch/include/ATen/ATen.h", "ATen.h", "DATA"), ("torch/test/Dict_test", "Dict_test", "DATA"),
                ("torch/bin/torch_shm_manager", "torch_shm_manager", "DATA"),
                ("PySide6/Qt/translations/qt_de.qm", "qt_de.qm", "DATA")])
        return types.SimpleNamespace(kind=self.kind, args=args, kwargs=kwargs)


FAKE_BINARIES = [("torch/lib/libtorch_cpu.so", "/x/libtorch_cpu.so", "BINARY"),
                 ("nvidia/cusolver/lib/libcusolverMg.so.11", "/x/libcusolverMg.so.11", "BINARY"),
                 ("torch/lib/libtorchbind_test.so", "/x/libtorchbind_test.so", "BINARY"),
                 ("nvidia/curand/lib/libcurand.so.10", "/x/libcurand.so.10", "BINARY")]


def _run_spec(platform: str, tmp_path: Path, monkeypatch) -> dict:
    """Execute build_app.spec as PyInstaller would, on ``platform``, with recorders for its steps."""
    calls: list = []
    stubbed: list = []
    ran: list = []
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.copy_metadata = lambda name: [(f"/site/{name}.dist-info", f"{name}.dist-info")]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    stubs = types.ModuleType("cuda_stubs")
    stubs.STUBS = {"libcurand.so.10": 101}
    stubs.build_stub = lambda soname, src, importers, workdir: stubbed.append(soname) or workdir / soname
    monkeypatch.setitem(sys.modules, "cuda_stubs", stubs)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: ran.append(cmd))
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec prepends packaging/
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    monkeypatch.setenv("RANET_BUNDLE_WEIGHTS", str(weights))
    dist = tmp_path / "dist"
    lib = dist / "RANetDemo" / "_internal" / "torch" / "lib"
    lib.mkdir(parents=True)
    (lib / "libtorch_cpu.so").write_bytes(b"\x7fELF")
    spec = ROOT / "build_app.spec"
    namespace = {"__name__": "__main__", "__file__": str(spec), "SPECPATH": str(ROOT), "DISTPATH": str(dist),
                 "workpath": str(tmp_path / "build"),
                 **{kind: _Recorder(calls, kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}}
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    steps = {kind: (args, kwargs) for kind, args, kwargs in calls}
    return {"steps": steps, "namespace": namespace, "stubbed": stubbed, "ran": ran, "dist": dist / "RANetDemo"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_spec_hands_each_platform_its_configuration(platform, tmp_path, monkeypatch):
    run = _run_spec(platform, tmp_path, monkeypatch)
    steps, namespace = run["steps"], run["namespace"]
    cfg = spec_config(platform)
    _, exe = steps["EXE"]
    assert exe["name"] == "RANetDemo"  # PyInstaller appends .exe on Windows
    assert exe["console"] is False
    assert exe["icon"] == str(cfg.icon) and Path(exe["icon"]).is_file()
    assert exe["upx"] is False
    _, analysis = steps["Analysis"]
    assert "torchvision" in analysis["excludes"]
    assert ("weights/ranet_fashion_mnist.pt", str(tmp_path / "model.pt"), "DATA") in namespace["a"].datas
    kept = {dest for dest, _, _ in namespace["a"].binaries + namespace["a"].datas}
    assert "torch/lib/libtorch_cpu.so" in kept and "torch/bin/torch_shm_manager" in kept
    assert not kept & {"nvidia/cusolver/lib/libcusolverMg.so.11", "torch/lib/libtorchbind_test.so",
                       "torch/include/ATen/ATen.h", "torch/test/Dict_test", "PySide6/Qt/translations/qt_de.qm"}
    strip = [cmd for cmd in run["ran"] if cmd[0] == "strip"]
    launcher = run["dist"] / "RANetDemo.desktop"
    if platform == "linux":
        assert run["stubbed"] == ["libcurand.so.10"]
        assert strip and strip[0][1:] == [str(run["dist"] / "_internal" / "torch" / "lib" / "libtorch_cpu.so")]
        assert launcher.read_text(encoding="utf-8") == desktop_entry(cfg)
        assert os.access(launcher, os.X_OK)
        assert "BUNDLE" not in steps
    else:
        assert run["stubbed"] == [] and strip == [] and not launcher.exists()
    if platform == "darwin":
        (coll,), bundle = steps["BUNDLE"]
        assert coll.kind == "COLLECT"
        assert bundle == cfg.bundle
        assert bundle["info_plist"]["NSHighResolutionCapable"] is True
        assert bundle["info_plist"]["CFBundleShortVersionString"] == VERSION
        assert bundle["bundle_identifier"] == "org.ranet.demo"
    else:
        assert "BUNDLE" not in steps


# -- the Linux launcher --------------------------------------------------------------------------------

def _desktop_exec(entry: str, desktop_path: str) -> list[str]:
    """The Exec line as the Desktop Entry Specification has a launcher read it: string-value
    escapes first, then double-quoted arguments (backslash escapes `"`, backquote, `$`, backslash),
    then field codes (%k: the desktop file's location)."""
    value = next(line.partition("=")[2] for line in entry.splitlines() if line.startswith("Exec="))
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    text, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            text, i = text + escapes[value[i + 1]], i + 2
        else:
            text, i = text + value[i], i + 1
    args, current, quoted, started, i = [], "", False, False, 0
    while i < len(text):
        char = text[i]
        if quoted and char == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
            current, i = current + text[i + 1], i + 2
            continue
        if char == '"':
            quoted, started = not quoted, True
        elif char == " " and not quoted:
            if started:
                args.append(current)
            current, started = "", False
        else:
            current, started = current + char, True
        i += 1
    assert not quoted, "unbalanced quotes in Exec"
    if started:
        args.append(current)
    assert all("%" not in arg for arg in args if arg != "%k"), "a % outside a field code"
    return [desktop_path if arg == "%k" else arg for arg in args]


def test_the_linux_launcher_starts_the_executable_beside_it_and_finds_its_icon(tmp_path):
    if shutil.which("sh") is None:
        pytest.skip("no sh")
    folder = tmp_path / "unpacked here" / "RANetDemo"
    (folder / Path(ICON_IN_BUNDLE).parent).mkdir(parents=True)
    shutil.copy(ROOT / "assets" / "icons" / "ranet.png", folder / ICON_IN_BUNDLE)
    marker = tmp_path / "started"
    exe = folder / "RANetDemo"
    exe.write_text(f'#!/bin/sh\necho "$0" > "{marker}"\n')
    exe.chmod(0o755)
    entry = desktop_entry(spec_config("linux"))
    launcher = folder / "RANetDemo.desktop"
    launcher.write_text(entry)
    launcher.chmod(0o755)
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(launcher)], capture_output=True, text=True)
        assert check.returncode == 0 and "error" not in check.stdout, check.stdout
    argv = _desktop_exec(entry, str(launcher))
    assert argv[:2] == ["sh", "-c"]
    for _ in range(2):  # the first start rewrites Icon=, the second finds it right
        subprocess.run(argv, cwd=tmp_path, check=True, timeout=30)
        assert marker.read_text().strip() == str(exe)
        icon = [line for line in launcher.read_text().splitlines() if line.startswith("Icon=")]
        assert icon == [f"Icon={folder / ICON_IN_BUNDLE}"]
        assert os.access(launcher, os.X_OK)
        assert launcher.read_text().replace(icon[0], "Icon=ranetdemo") == entry
        assert not (folder / "RANetDemo.desktop.new").exists()
        marker.unlink()
