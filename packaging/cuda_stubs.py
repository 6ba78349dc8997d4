"""Small stand-ins for CUDA libraries that torch links but the app never calls (Linux builds).

``libtorch_cuda.so`` lists cuRAND and cuSPARSELt as DT_NEEDED, so the dynamic loader insists on
finding them, yet inference never reaches them: torch imports no cuRAND symbol at all, and its
cuSPARSELt calls serve only 2:4 semi-structured sparse tensors. A stub with the same SONAME that
defines exactly the symbols the other bundled libraries import satisfies the loader in a few KB
instead of ~370 MB. Every cuSPARSELt function returns a ``cusparseStatus_t``, so a stub that
answers CUSPARSE_STATUS_NOT_SUPPORTED turns an unexpected call into torch's ordinary error.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

# SONAME -> the status every stubbed function returns.
STUBS = {
    "libcurand.so.10": 101,  # CURAND_STATUS_NOT_INITIALIZED (torch imports no cuRAND symbol)
    "libcusparseLt.so.0": 10,  # CUSPARSE_STATUS_NOT_SUPPORTED
}


@functools.lru_cache(maxsize=None)  # each importer is read once, not once per stub
def _symbols(path: str, undefined: bool) -> dict[str, str | None]:
    """Dynamic function/object symbols of ``path``: name -> symbol version (or None)."""
    flag = "--undefined-only" if undefined else "--defined-only"
    out = subprocess.run(["nm", "-D", flag, path], capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if not parts or (not undefined and parts[-2] not in ("T", "W", "D", "B", "R", "i")):
            continue
        name, _, version = parts[-1].partition("@")
        symbols[name] = version.lstrip("@") or None
    return symbols


def build_stub(soname: str, real: str, importers: list[str], workdir: Path) -> Path | None:
    """Compile a stub for ``real`` that defines what ``importers`` use from it; None when the
    stub cannot be made safely (no compiler, or a symbol whose return value is not a status)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or shutil.which("nm") is None:
        return None
    defined = _symbols(real, undefined=False)
    wanted = {}
    for path in importers:
        for name, version in _symbols(path, undefined=True).items():
            if name in defined:
                wanted[name] = version or defined[name]
    if any("String" in name for name in wanted):  # returns a pointer, not a status
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"{soname}.c"
    source.write_text("".join(f"int {name}(void) {{ return {STUBS[soname]}; }}\n" for name in sorted(wanted)))
    versions: dict[str, list[str]] = {}
    for name, version in wanted.items():
        versions.setdefault(version or soname, []).append(name)
    script = workdir / f"{soname}.map"
    script.write_text("".join(f"{v} {{ global: {'; '.join(sorted(names))}; local: *; }};\n"
                              for v, names in versions.items()) or f"{soname} {{ local: *; }};\n")
    stub = workdir / soname
    subprocess.run([compiler, "-shared", "-fPIC", "-nostdlib", "-O2", "-o", str(stub), str(source),
                    f"-Wl,-soname,{soname}", f"-Wl,--version-script={script}"], check=True)
    return stub
