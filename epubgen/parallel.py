"""Run per-chapter work over several processes, with the same result as running it in one.

`split_work(work, count)` cuts range(count) into consecutive slices, one per usable CPU. The
calling process works through the first slice itself while forked child processes work through
the others; the results come back in slice order, so whoever computed them, the caller sees
exactly what one process would have produced.

The children are forked: they start with a copy of the caller's memory (the chapters, the
settings, the work function itself), so nothing is sent to them but two numbers, and only
their results are pickled back. Elsewhere than on Linux, for short series, on a single CPU, or
with EPUBGEN_JOBS=1, everything runs in the calling process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

R = TypeVar("R")

MIN_ITEMS = 200
"""Fewer chapters than this finish before forking processes would pay for itself."""

_work: Callable[[int, int], object] | None = None
"""The work of the split_work call in progress, for the forked children to find."""


def usable_cpus() -> int:
    """The CPUs this process may run on (EPUBGEN_JOBS overrides: 1 turns parallelism off)."""
    setting = os.environ.get("EPUBGEN_JOBS", "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def split_work(
    work: Callable[[int, int], R],
    count: int,
    encode: Callable[[int, R], object] | None = None,
    decode: Callable[[int, object], R] | None = None,
    min_items: int = MIN_ITEMS,
) -> list[R]:
    """[work(start, stop) for each consecutive slice of range(count)], the slices run in parallel.

    work(start, stop) must depend only on its arguments and on what existed before the call (a
    forked child sees the caller's memory as it was). A child's result travels back pickled:
    encode(start, result) in the child and decode(start, encoded) here may turn it into something
    quicker to pickle (start: where the slice starts). The first slice runs in the calling
    process, so work may report progress from there (when its start is 0). An exception raised
    in any slice is raised here, the first slice's first.

    The garbage collector is paused meanwhile (see paused_gc).
    """
    with paused_gc():
        processes = min(usable_cpus(), count // max(min_items // 2, 1))
        if processes < 2 or count < min_items or not _can_fork():
            return [work(0, count)]
        return _in_processes(work, _slices(count, processes), encode, decode)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: per-chapter work makes millions of small objects and no
    reference cycles (refcounting frees all its garbage), and the collector's passes over the new
    objects cost several percent of the work. It runs again afterwards, if it ran before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _in_processes(
    work: Callable[[int, int], R],
    slices: list[tuple[int, int]],
    encode: Callable[[int, R], object] | None,
    decode: Callable[[int, object], R] | None,
) -> list[R]:
    global _work
    _work = (lambda start, stop: encode(start, work(start, stop))) if encode is not None else work
    for stream in (sys.stdout, sys.stderr):  # a child flushes its copy of what is still buffered
        if stream is not None:
            stream.flush()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(slices) - 1, mp_context=context) as pool:
            futures = [pool.submit(_run_slice, start, stop) for start, stop in slices[1:]]
            try:
                first = work(*slices[0])
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            rest = [future.result() for future in futures]
    finally:
        _work = None
    starts = [start for start, _ in slices[1:]]
    return [first] + [decode(start, result) if decode is not None else result for start, result in zip(starts, rest)]  # type: ignore[misc]


def _slices(count: int, processes: int) -> list[tuple[int, int]]:
    """Even consecutive slices of range(count), one per process. (Measured: a smaller first slice
    for the caller, or several slices per child so that results travel back sooner, was slower.)"""
    bounds = [count * index // processes for index in range(processes + 1)]
    return list(zip(bounds, bounds[1:]))


def _can_fork() -> bool:
    """Fork is safe here: on Linux (macOS system libraries may not survive a fork, and Python
    there does not fork by default), not inside a forked child already, no other thread running."""
    return sys.platform.startswith("linux") and _work is None and threading.active_count() == 1


def _run_slice(start: int, stop: int) -> object:
    """In a forked child: the work of the slice, with the caller's work function."""
    assert _work is not None
    return _work(start, stop)
