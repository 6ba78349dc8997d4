"""How long torch's OpenMP threads spin before they sleep, for machines that also do other work.

libgomp (torch's OpenMP on Linux) spins up to 300,000 times while a thread waits for the others.
When another program holds one of the cores, every parallel region then waits for a thread the
system has descheduled: on 2 busy cores a batch-1 pass of the embedded model took 1.4 s instead
of 0.02 s, and the app took tens of seconds to load. A short spin (``GOMP_SPINCOUNT=10000``)
keeps an idle machine's latency (batch 1: 11-12 ms, as with the default; sleeping at once,
``OMP_WAIT_POLICY=PASSIVE``, took 33-35 ms) and a busy machine's throughput (batch 256 with both
cores taken by other programs: 5.6 ms per image, against 11.7 with the default). OpenMP reads it
once, so it must be set before torch is imported; other OpenMP runtimes ignore it.
"""

from __future__ import annotations

import os

__all__ = ["limit_openmp_spinning"]


def limit_openmp_spinning() -> None:
    """``GOMP_SPINCOUNT=10000`` unless the environment sets it; call before importing torch."""
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
