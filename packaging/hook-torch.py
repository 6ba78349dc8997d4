"""Replaces pyinstaller-hooks-contrib's hook-torch for build_app.spec.

The contrib hook imports and collects every torch submodule (``collect_submodules("torch")``):
thousands of modules, most of the build time on a 2-core machine, and a larger bundle. Here the
module graph follows what the app's code imports (PyInstaller also sees imports inside
functions), which covers inference on the CPU and the GPU. Data files, shared libraries and the
NVIDIA packages torch names in its requirements are collected as the contrib hook does.
"""

from PyInstaller import compat
from PyInstaller.utils.hooks import PY_DYLIB_PATTERNS, collect_data_files, collect_dynamic_libs, collect_submodules

module_collection_mode = "pyz+py"  # TorchScript and torch._dynamo read the sources of some modules
warn_on_missing_hiddenimports = False

datas = collect_data_files("torch", excludes=["**/*.h", "**/*.hpp", "**/*.cuh", "**/*.lib", "**/*.cpp", "**/*.pyi",
                                              "**/*.cmake", "include/**", "share/**", "bin/protoc*"])
binaries = collect_dynamic_libs("torch", search_patterns=PY_DYLIB_PATTERNS + ["*.so.*"])
# Imported by name at run time (`import torch` loads them): the only misses the self-test found.
hiddenimports = collect_submodules("torch._dynamo.polyfills")

if compat.is_linux:
    import packaging.requirements
    from _pyinstaller_hooks_contrib.compat import importlib_metadata
    from _pyinstaller_hooks_contrib.utils import nvidia_cuda

    requires = [packaging.requirements.Requirement(r) for r in importlib_metadata.distribution("torch").requires or []]
    hiddenimports += nvidia_cuda.infer_hiddenimports_from_requirements(
        [r.name for r in requires if r.marker is None or r.marker.evaluate()])
    # torch/lib/*.so find each other through their RUNPATH; links at the top level confuse that.
    bindepend_symlink_suppression = ["**/torch/lib/*.so*"]
