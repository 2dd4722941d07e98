"""Run per-chapter work over several processes, with the same result as running it in one.

A Team cuts range(count) into consecutive chunks, big ones first and smaller ones towards the end,
and forks a worker per usable CPU. In the first round of work the workers claim the chunks one
after the other as they get free, so a worker on a slower or busier CPU simply does fewer of them
(a fixed half each would make the whole round wait for the slower one); every later round runs
each chunk where it was claimed. Results come back in chunk order: whoever computed them, the
caller sees exactly what one process would have produced.

The workers are forked: they start with a copy of the caller's memory (the settings, what the
caller read already), each keeps what it makes of its chunks from round to round, and only the
rounds' results are pickled back. Elsewhere than on Linux, for short series, on a single CPU, or
with EPUBGEN_JOBS=1, one chunk of everything runs in the calling process, through the same rounds.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate
from multiprocessing.connection import Connection, wait

MIN_ITEMS = 200
"""Fewer chapters than this finish before forking processes would pay for itself."""


def usable_cpus() -> int:
    """The CPUs this process may run on (EPUBGEN_JOBS overrides: 1 turns parallelism off)."""
    setting = os.environ.get("EPUBGEN_JOBS", "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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


SMALLEST_CHUNK = 1 / 64
"""The smallest chunk, as a share of one process's work: the most a worker can be left doing alone
at the end of the first round (about 20 ms of a 3,000-chapter build on two CPUs)."""

MAX_CHUNKS = 1024
"""No chunk is smaller than this share of all the work, whatever the number of processes: so there
are at most MAX_CHUNKS + 1 chunks, and their claim tokens (2 bytes each) fit in a pipe's buffer even
where the kernel gives a pipe no more than a page or two (_claims)."""


def chunks(count: int, processes: int, weights: Sequence[float] | None = None) -> list[tuple[int, int]]:
    """Consecutive chunks of range(count) for processes to claim in turn (guided scheduling): each
    holds a 2 * processes-th of the work left, down to SMALLEST_CHUNK of a process's share, with at
    least one item. Work is counted in items, or by weights (how much each item is expected to be,
    all positive). A function of its arguments only, so the chunks, unlike who claims them, are the
    same every time."""
    running = list(accumulate(weights if weights is not None else [1.0] * count, initial=0.0))
    total = running[-1]
    smallest = total * max(SMALLEST_CHUNK / processes, 1 / MAX_CHUNKS)
    bounds = [0]
    while bounds[-1] < count:
        done = running[bounds[-1]]
        stop = bisect_left(running, done + max((total - done) / (2 * processes), smallest))
        bounds.append(min(max(stop, bounds[-1] + 1), count))
    return list(zip(bounds, bounds[1:]))


def _can_fork() -> bool:
    """Fork is safe here: on Linux (macOS system libraries may not survive a fork, and Python
    there does not fork by default), not inside a forked child already, no other thread running."""
    return sys.platform.startswith("linux") and multiprocessing.parent_process() is None and threading.active_count() == 1


Round = Callable[..., object]
"""A round of a Team: round(state, start, stop, *arguments, tick) -> the result for the chunk
range(start, stop). A module-level function (children get it by name); state is the dict its worker
keeps from round to round, shared by all the chunks the worker holds (what a chunk keeps there is
best keyed by its items); tick() says one more item is done."""


class Team:
    """Forked workers that each keep the chunks of range(count) they claimed, and what they made of
    them, from one round of work to the next.

    A build's chapters are read, cleaned, refined and serialised where they are kept: between
    rounds only what the next decision needs comes back (removals, repeated-line keys, headings,
    compressed documents), never the text. So no process holds the whole series, and nothing
    big is pickled. The calling process only coordinates; with one usable CPU, a short series or
    no fork, it runs a single chunk of everything itself, with the same rounds and the same results.

        with Team(count) as team:
            results = team.run(round, arguments...)   # one result per chunk, in chunk order
    """

    def __init__(self, count: int, state: dict | None = None, min_items: int = MIN_ITEMS, weights: Sequence[float] | None = None):
        """state: what each worker's state starts with (handed to the children as they fork, not
        pickled); weights: how much work each item is expected to be, when not the same for all."""
        processes = min(usable_cpus(), count // max(min_items // 2, 1))
        if processes < 2 or count < min_items or not _can_fork():
            processes = 1
        self.processes = processes
        self.chunks = chunks(count, processes, weights) if processes > 1 else [(0, count)]
        self._waiting: list[object] = []
        """The rounds started and not yet waited for, oldest first."""
        self._state = dict(state or {})
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []

    def __enter__(self) -> Team:
        if self.processes > 1:
            for stream in (sys.stdout, sys.stderr):  # a child flushes its copy of what is still buffered
                if stream is not None:
                    stream.flush()
            claims = _claims(len(self.chunks))
            try:
                self._fork(claims)
            except BaseException:
                self.__exit__()  # the workers forked already are stopped
                raise
            finally:
                os.close(claims)
        return self

    def _fork(self, claims: int) -> None:
        context = multiprocessing.get_context("fork")
        for _ in range(self.processes):
            here, there = context.Pipe()
            theirs = [here, *(connection for _, connection in self._children)]
            child = context.Process(target=_serve, args=(there, self.chunks, claims, dict(self._state), theirs), daemon=True)
            child.start()
            there.close()
            self._children.append((child, here))

    def __exit__(self, *exception: object) -> None:
        for _, connection in self._children:
            try:
                connection.send(None)
            except OSError:
                pass
            connection.close()
        for child, _ in self._children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()
        self._children = []

    def run(self, work: Round, *arguments: object, progress: Callable[[int], None] | None = None) -> list:
        """work(state, start, stop, *arguments, tick) for every chunk; their results in chunk order.

        tick() says one more item is done: progress(items done so far) is called in this process.
        An exception raised on any chunk is raised here: the first chunk's whose work raised one.
        """
        return self.start(work, *arguments)(progress)

    def start(self, work: Round, *arguments: object) -> Callable[[Callable[[int], None] | None], list]:
        """Start a round (as run does) and return the function that waits for its results, so that
        this process can do something else meanwhile. Rounds wait in turn: the results of rounds
        started one after the other are waited for in that order (the requests are small: sent
        ahead, they never wait for the workers). In a team without workers the round runs when waited for."""
        token = object()
        self._waiting.append(token)
        if self._children:
            for _, connection in self._children:
                connection.send((work, arguments))

        def wait_for_it(progress: Callable[[int], None] | None = None) -> list:
            if not self._waiting or self._waiting[0] is not token:
                raise RuntimeError("a team's rounds are waited for in the order they were started")
            self._waiting.pop(0)
            return self._collect(progress) if self._children else self._run_here(work, arguments, progress)

        return wait_for_it

    def _run_here(self, work: Round, arguments: tuple, progress: Callable[[int], None] | None) -> list:
        start, stop = self.chunks[0]
        done = [0]

        def tick() -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0])

        return [work(self._state, start, stop, *arguments, tick)]

    def _collect(self, progress: Callable[[int], None] | None) -> list:
        waiting = {connection: index for index, (_, connection) in enumerate(self._children)}
        results: list = [_UNDONE] * len(self.chunks)
        errors: dict[int, BaseException] = {}
        """By the chunk they were raised on (a worker that failed otherwise: after every chunk)."""
        done = 0
        while waiting:
            for connection in wait(list(waiting)):
                index = waiting[connection]
                try:
                    kind, value = connection.recv()
                except (EOFError, OSError):
                    kind, value = "error", (None, RuntimeError("a worker process stopped unexpectedly"))
                if kind == "tick":
                    done += value
                    if progress is not None:
                        progress(done)
                elif kind == "chunk":
                    chunk, result = value
                    results[chunk] = result
                else:
                    del waiting[connection]
                    if kind == "error":
                        chunk, error = value
                        errors[len(self.chunks) + index if chunk is None else chunk] = error
        if errors:
            raise errors[min(errors)]
        if any(result is _UNDONE for result in results):  # chunks nobody claimed: every worker's first round failed
            raise RuntimeError("a round of work left chunks undone: an earlier round failed")
        return results


_UNDONE = object()
"""The result of a chunk no worker ran (yet)."""

TICK_EVERY = 16
"""A child reports progress every this many items: a message per item would cost more than it shows."""


def _claims(count: int) -> int:
    """A pipe holding a token for each of count chunks, written in full and closed for writing: the
    end for the workers to claim chunks from (_claimed)."""
    reading, writing = os.pipe()
    os.write(writing, b"".join(chunk.to_bytes(2, "big") for chunk in range(count)))
    os.close(writing)
    return reading


def _claimed(claims: int, held: list[int]) -> Iterator[int]:
    """The chunks this worker claims, one at a time, until there are none left (each one also
    added to held). A read of one two-byte token from a pipe holding them all is done whole (the
    kernel copies it under the pipe's lock), so no two workers ever get the same chunk."""
    try:
        while token := os.read(claims, 2):
            held.append(int.from_bytes(token, "big"))
            yield held[-1]
    finally:  # also when the worker stops claiming (its first round failed)
        os.close(claims)


def _serve(connection: Connection, chunks: list[tuple[int, int]], claims: int, state: dict, theirs: list[Connection]) -> None:
    """In a forked child: run each round sent on the chunks it holds, keeping its state, until told
    to stop. It claims its chunks in the first round (_claimed), and holds them from then on.

    The child closes its copies of the calling process's ends of the pipes (theirs): if that
    process dies (kill -9), its ends close for good, and the child's next send or receive fails
    and ends it, instead of waiting for ever on a pipe that it holds open itself.
    Ctrl-C is left to the calling process, which stops the team: a child would only print a traceback.
    """
    for other in theirs:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pending = [0]

    def tick() -> None:
        pending[0] += 1
        if pending[0] == TICK_EVERY:
            connection.send(("tick", pending[0]))
            pending[0] = 0

    held: list[int] = []
    this_round: Iterable[int] = _claimed(claims, held)  # the first round claims; later ones run what it claimed
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        work, arguments = request
        try:
            _run_round(connection, work, arguments, chunks, this_round, tick, state)
            if pending[0]:
                connection.send(("tick", pending[0]))
            connection.send(("done", None))
        except (BrokenPipeError, ConnectionResetError):
            return  # the calling process stopped (its own error says why): nothing to tell it
        except _Failed as failed:
            try:
                connection.send(("error", failed.args))
            except OSError:
                return
        pending[0] = 0
        this_round = held


class _Failed(Exception):
    """A chunk's work raised an error, or its result cannot be sent: args are (chunk, the error, picklable)."""


def _run_round(
    connection: Connection, work: Round, arguments: tuple, chunks: list[tuple[int, int]], held: Iterable[int], tick: Callable[[], None], state: dict
) -> None:
    """Run work on each chunk held and send ("chunk", (chunk, its result)) as soon as it is done, so
    the calling process takes in the results while the round goes on; _Failed at the first failure."""
    for chunk in held:
        try:
            result = work(state, *chunks[chunk], *arguments, tick)
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the caller
            raise _Failed(chunk, _picklable(error)) from None
        try:
            connection.send(("chunk", (chunk, result)))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception as error:  # noqa: BLE001 - a result that cannot be sent (not picklable): say why
            raise _Failed(chunk, _picklable(error)) from None


def _picklable(error: BaseException) -> BaseException:
    """The error itself when it survives pickling, else a RuntimeError telling what it was."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(error).__name__}: {error}")
