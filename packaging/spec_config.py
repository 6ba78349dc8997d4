"""What ``build_app.spec`` builds on each platform, as plain data.

The spec asks :func:`spec_config` for the executable's name, icon, console flag, the Linux-only
steps (stripping, the stand-in CUDA libraries, NVRTC's dlopened builtins), the macOS bundle and
the archive name. No PyInstaller here and no ``sys.platform`` inside the function, so a test can
evaluate the Windows and macOS branches on Linux (``tests/test_spec_platforms.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "RANetDemo"
DISPLAY_NAME = "RANet Demo"
BUNDLE_IDENTIFIER = "org.ranet.demo"
ICON_IN_BUNDLE = "_internal/assets/icons/ranet.png"  # where the spec puts the PNG, relative to dist/RANetDemo

# Never imported by the app. torchvision: only ranet.datasets uses it, optionally (ImageNet class
# names), and a frozen torchvision without its registered C++ ops fails at start ("operator
# torchvision::nms does not exist"). triton (~0.9 GB) only serves torch.compile on GPU; torch checks
# for it and goes on. torch._dynamo/_inductor/testing cannot go: `import torch` imports parts of them.
EXCLUDES = (
    "triton", "torchvision", "torchaudio", "torch.onnx", "onnx", "onnxscript", "torch.utils.tensorboard",
    "tensorboard", "torch.utils.benchmark", "tkinter", "_tkinter", "IPython", "matplotlib", "pandas", "scipy",
    "pytest", "_pytest", "pytestqt", "hypothesis", "PyQt5", "PyQt6", "PySide2",
)

# Shared libraries nothing in the app loads (names only matter on Linux CUDA builds; elsewhere they
# match nothing). libtorch_cuda needs cusparseLt, NCCL, cuFile and NVSHMEM (DT_NEEDED), so those
# stay; these are not needed by any collected library nor opened by torch: multi-GPU cuSOLVER, the
# ".alt" NVRTC, CUPTI's performance-counter libraries, the FFTW and BLAS drop-in wrappers, NVSHMEM's
# network transports and bootstrap plug-ins, cuFile's RDMA plug-in.
DROP_LIBS = (
    "libcusolverMg.so*", "libnvrtc.alt.so*", "libnvrtc-builtins.alt.so*", "libnvperf_host.so*",
    "libnvperf_target.so*", "libpcsamplingutil.so*", "libcheckpoint.so*", "libcufftw.so*", "libnvblas.so*",
    "nvshmem_transport_*.so*", "nvshmem_bootstrap_*.so*", "libcufile_rdma.so*",
    # torch opens its CUDA linear-algebra library (and through it cuSOLVER) only on the first
    # torch.linalg call on the GPU, which the app never makes.
    "libtorch_cuda_linalg.so", "libcusolver.so*",
    # cuDNN's shim opens each sub-library on the first call into it: adv serves RNNs and CTC loss,
    # ext causal 1-d convolutions; torch imports nothing else from either.
    "libcudnn_adv.so*", "libcudnn_ext.so*",
)
DROP_DATA = (
    "torch/bin/protoc*", "torch/include/*", "torch/share/*", "*/tests/*",
    # The CPU wheel also carries torch's C++ test programs and test-only libraries (0.13 GB), which
    # the CUDA wheel leaves out; torch/bin/torch_shm_manager stays (shared-memory tensors).
    "torch/test/*", "torch/bin/test_*", "torch/bin/*Test", "torch/bin/*.pt", "torch/bin/*.ptl",
    "torch/bin/upgrader_models/*", "libjitbackend_test.so", "libtorchbind_test.so", "libbackend_with_compiler.so",
    "libaoti_custom_ops.so",
    # Qt's own translations: the app installs no QTranslator, so Qt never reads them (7 MB).
    "PySide6/Qt/translations/*",
)

# Stripped after the build on Linux: torch's and NVIDIA's libraries carry full symbol tables
# (~0.3 GB). auditwheel-patched libraries (numpy.libs, pillow.libs) no longer load once stripped.
STRIP_DIRS = ("torch/lib", "nvidia")


@dataclass(frozen=True)
class SpecConfig:
    platform: str  # a sys.platform value: "linux", "win32", "darwin"
    name: str  # the folder dist/<name> and the executable's base name
    executable: str  # the executable's file name inside dist/<name>
    version: str  # [project] version in pyproject.toml
    icon: Path
    console: bool
    excludes: tuple[str, ...]
    drop_libs: tuple[str, ...]
    drop_data: tuple[str, ...]
    dlopened_cuda_libs: bool  # collect NVRTC's builtins from the nvidia wheels (Linux)
    cuda_stubs: bool  # replace cuRAND and cuSPARSELt by stand-ins (Linux, packaging/cuda_stubs.py)
    strip_dirs: tuple[str, ...]  # folders under _internal whose libraries are stripped (Linux)
    desktop_file: str | None  # file name of the launcher written next to the executable (Linux)
    bundle: dict | None  # keyword arguments of PyInstaller's BUNDLE (macOS), None elsewhere


def project_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """``[project] version`` of pyproject.toml."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the one key, read the simple way
        section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        match = re.search(r'^version\s*=\s*"([^"]+)"', section.group(1) if section else "", re.M)
        if match is None:
            raise ValueError(f"{pyproject}: no [project] version") from None
        return match.group(1)
    return tomllib.loads(text)["project"]["version"]


def spec_config(platform: str, root: Path = ROOT) -> SpecConfig:
    """The build's configuration for ``platform`` (a ``sys.platform`` value)."""
    linux = platform.startswith("linux")
    windows = platform == "win32"
    macos = platform == "darwin"
    icons = root / "assets" / "icons"
    # Linux executables carry no icon: the PNG goes into the bundle for the window and the launcher.
    icon = icons / ("ranet.ico" if windows else "ranet.icns" if macos else "ranet.png")
    version = project_version(root / "pyproject.toml")
    bundle = None
    if macos:
        bundle = {
            "name": f"{NAME}.app",
            "icon": str(icon),
            "bundle_identifier": BUNDLE_IDENTIFIER,
            "version": version,
            "info_plist": {
                "CFBundleDisplayName": DISPLAY_NAME,
                "CFBundleName": DISPLAY_NAME,
                "CFBundleShortVersionString": version,
                "CFBundleVersion": version,
                "NSHighResolutionCapable": True,
            },
        }
    return SpecConfig(
        platform=platform,
        name=NAME,
        executable=NAME + ".exe" if windows else NAME,
        version=version,
        icon=icon,
        console=False,  # no console window on Windows and macOS; stdout still works from a terminal on Linux
        excludes=EXCLUDES,
        drop_libs=DROP_LIBS,
        drop_data=DROP_DATA,
        dlopened_cuda_libs=linux,
        cuda_stubs=linux,
        strip_dirs=STRIP_DIRS if linux else (),
        desktop_file=f"{NAME}.desktop" if linux else None,
        bundle=bundle,
    )


def archive_name(platform: str, cuda: bool, machine: str = "x86_64") -> str:
    """The release archive's file name: by OS and, on Linux, by flavour (CPU or CUDA torch)."""
    if platform.startswith("linux"):
        return f"{NAME}-linux-{'cuda' if cuda else 'cpu'}.tar.gz"
    arch = {"x86_64": "x64", "amd64": "x64", "arm64": "arm64", "aarch64": "arm64"}.get(machine.lower(), machine.lower())
    return f"{NAME}-{'windows' if platform == 'win32' else 'macos' if platform == 'darwin' else platform}-{arch}.zip"


def _desktop_quote(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry Specification asks: inside double quotes,
    backslash-escape `"`, backquote, `$` and backslash; then the string-value escape doubles every
    backslash."""
    quoted = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return quoted.replace("\\", "\\\\")


# The launcher's command, run by `sh` with the .desktop file's own path as $0 (%k): start the
# executable next to it. Icon= must be an absolute path, unknown until the archive is unpacked, so
# the command first points Icon= at the bundled PNG (rewriting the file in place keeps its
# permissions and any "trusted" mark the file manager set); in a read-only folder it only starts
# the app. No "%" anywhere: launchers read it as a field code.
LAUNCH = (
    'd=$(dirname "$0"); i="$d/' + ICON_IN_BUNDLE + '"; '
    'grep -qxF "Icon=$i" "$0" || { sed "s|^Icon=.*|Icon=$i|" "$0" > "$0.new" && cat "$0.new" > "$0"; '
    'rm -f "$0.new"; } 2>/dev/null; '
    'exec "$d/' + NAME + '"'
)


def desktop_entry(config: SpecConfig) -> str:
    """The Linux launcher: double-clicked in a file manager, it starts the executable beside it."""
    exec_line = " ".join(["sh", "-c", _desktop_quote(LAUNCH), "%k"])
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={DISPLAY_NAME}",
        "Comment=Classify images with early exits (RANet)",
        f"Exec={exec_line}",
        f"Icon={config.name.lower()}",  # replaced by the PNG's absolute path on the first start
        "Terminal=false",
        "Categories=Education;",
        "",
    ])
