"""The address-space cap (`--memory`) for a worker or for `check`'s own process, and the
process's resident memory as the batch reports it (now, and its peak).

Two limits work together: Z3's `memory_max_size` makes the solver give up cleanly (an
`Unknown` with reason `memory`) before the process's hard cap (RLIMIT_AS) makes an
allocation fail (a `MemoryError`, which the callers also turn into that Unknown).  Without
them a test that blows up (2 threads of 500 instructions) takes the machine's memory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import z3

MB = 1024 * 1024


def solver_cap(memory_mb: int) -> None:
    """Z3 stops at three quarters of the cap, leaving room for Python and the encoding."""
    z3.set_param("memory_max_size", max(64, memory_mb * 3 // 4))


def cap_process(memory_mb: int | None) -> None:
    """A worker's cap, for the rest of its life (soft and hard: a worker never needs more)."""
    if memory_mb is None:
        return
    solver_cap(memory_mb)
    try:
        import resource
    except ImportError:  # not POSIX: Z3's own limit still holds
        return
    cap = memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def resident_mb() -> float:
    """This process's resident memory now (MB of 2**20 bytes; Linux /proc, 0.0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB of 2**20 bytes; 0.0 where the system
    does not say)."""
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MB  # Linux: KB; macOS: bytes


@contextmanager
def memory_cap(memory_mb: int | None) -> Iterator[None]:
    """The cap while the block runs, then the process's limits as they were (`check` runs in
    the caller's process, which may go on: a test suite, an editor integration)."""
    if memory_mb is None:
        yield
        return
    try:
        import resource
    except ImportError:
        resource = None  # type: ignore[assignment]
    before = None
    if resource is not None:
        before = resource.getrlimit(resource.RLIMIT_AS)
        soft, hard = before
        cap = memory_mb * MB if hard == resource.RLIM_INFINITY else min(memory_mb * MB, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    solver_cap(memory_mb)
    try:
        yield
    finally:
        if resource is not None and before is not None:
            resource.setrlimit(resource.RLIMIT_AS, before)
        z3.set_param("memory_max_size", 0)  # Z3's default: no limit
