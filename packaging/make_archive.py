"""Pack the built app into its release archive, named by OS and flavour, and print its size.

    python packaging/make_archive.py [--dist dist]

Linux: ``RANetDemo-linux-cpu.tar.gz`` or ``RANetDemo-linux-cuda.tar.gz`` (the flavour is read
from the build: a CUDA torch brings its NVIDIA libraries along); Windows:
``RANetDemo-windows-x64.zip``; macOS: ``RANetDemo-macos-arm64.zip`` holding ``RANetDemo.app``.
The archive is written next to the build, in the dist folder.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec_config import NAME, archive_name  # noqa: E402


def is_cuda_build(folder: Path) -> bool:
    internal = folder / "_internal"
    return (internal / "nvidia").is_dir() or any((internal / "torch" / "lib").glob("libtorch_cuda*"))


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def make_archive(dist: Path, system: str = sys.platform) -> Path:
    folder = dist / NAME
    if not folder.is_dir():
        raise SystemExit(f"make_archive: {folder} not found; build it first (pyinstaller build_app.spec)")
    out = dist / archive_name(system, is_cuda_build(folder), platform.machine())
    out.unlink(missing_ok=True)
    if system.startswith("linux"):
        # tar keeps the executable bits and the symbolic links the bundle relies on.
        subprocess.run(["tar", "-C", str(dist), "-czf", str(out), NAME], check=True)
    elif system == "darwin":
        # ditto keeps the .app's symbolic links and extended attributes, which zipfile would lose.
        subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(dist / f"{NAME}.app"), str(out)],
                       check=True)
    else:
        shutil.make_archive(str(out.with_suffix("")), "zip", root_dir=dist, base_dir=NAME)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="PyInstaller's output folder (default: dist)")
    args = parser.parse_args(argv)
    out = make_archive(args.dist)
    size, unpacked = out.stat().st_size, folder_size(args.dist / NAME)
    print(f"{out.name}: {size:,} bytes ({size / 1e6:.0f} MB); unpacked {unpacked:,} bytes ({unpacked / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
