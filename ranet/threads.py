"""OpenMP's waiting policy: threads that sleep while they wait, for machines that do other work.

By default torch's OpenMP threads spin while they wait for each other. When another program holds
one of the cores, every parallel region then waits for a thread the system has descheduled: on 2
cores with one of them busy, a batch-1 pass of the embedded model took 1.4 s instead of 0.02 s,
and the app took tens of seconds to load. Sleeping waits cost little when the cores are free.
OpenMP reads the policy once, so it must be set before torch is imported.
"""

from __future__ import annotations

import os

__all__ = ["prefer_passive_openmp"]


def prefer_passive_openmp() -> None:
    """``OMP_WAIT_POLICY=PASSIVE`` unless the environment says otherwise; call before importing torch."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
