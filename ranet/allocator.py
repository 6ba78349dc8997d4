"""glibc's allocator settings for inference: large activations kept in the heap, not mapped and
unmapped on every call.

By default glibc serves each allocation over its (adaptive, at most 32 MiB) mmap threshold with
a fresh ``mmap`` and returns it with ``munmap``: a full pass at batch 256 then spends most of its
time in page faults and system calls. :func:`tune_allocator` turns that off for the whole process
(``mallopt(M_MMAP_MAX, 0)`` and a 2 GiB ``M_TRIM_THRESHOLD``, the same as the environment
``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647``): freed activations stay in the heap
for the next batch. It needs no torch, so an entry point can call it first thing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["ALLOCATOR_SETTINGS", "tune_allocator"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
ALLOCATOR_SETTINGS = {"MALLOC_MMAP_MAX_": 0, "MALLOC_TRIM_THRESHOLD_": 2**31 - 1}  # mallopt takes an int
_applied: dict[str, int] | None = None


def tune_allocator() -> dict[str, int]:
    """Apply :data:`ALLOCATOR_SETTINGS` through ``mallopt`` (once; later calls repeat the
    answer). Returns the settings applied, as environment variables; empty where the C library
    is not glibc (macOS, Windows, musl) or refuses them."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return dict(_applied)


def _apply() -> dict[str, int]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # glibc only: mallopt's numbers are glibc's
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return {}
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = (mallopt(_M_MMAP_MAX, ALLOCATOR_SETTINGS["MALLOC_MMAP_MAX_"]) == 1
          and mallopt(_M_TRIM_THRESHOLD, ALLOCATOR_SETTINGS["MALLOC_TRIM_THRESHOLD_"]) == 1)
    return dict(ALLOCATOR_SETTINGS) if ok else {}
