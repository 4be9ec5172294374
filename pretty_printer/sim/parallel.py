"""Independent NEURON simulations in parallel worker processes.

The samples of a static task (and the sequences of a temporal one) are simulated as independent
copies of the circuit (:mod:`pretty_printer.sim.neuron_backend`), so they can be split over
processes: each worker simulates a contiguous run of samples and the results are put back in
order.  The rates and spike times are identical to one process's, whatever the worker count,
because no copy sees another (``tests/pretty_printer/sim/test_parallel.py`` checks it bit for
bit).

Processes, not NEURON's threads (``ParallelContext.nthread``): on the grown ``glyphs`` circuit
(57 cells, 2,723 compartments per copy, 2 samples) two threads ran 1.3x faster than one (with
the mechanisms marked THREADSAFE), as the threads meet at a barrier every 0.025 ms step; two
processes ran 1.6-2.1x faster on 4-8 samples, their start-up included (``benchmarks/RESULTS.md``,
"NEURON work on worker processes").

Library calls simulate in the calling process.  ``generate`` and ``sweep`` run their NEURON work
(compile checks, morphology calibration) inside :func:`simulation_workers` with the run's
``--workers`` count; ``score`` does the same for its re-simulation.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterator, Sequence

from pretty_printer.errors import ConfigError, SimulationError

#: Below this much work (compartments x integration steps, summed over the samples) a run stays
#: in the calling process: starting a worker (Python, NEURON, the mechanisms) costs ~1.5 s, and
#: NEURON takes 0.2-0.3 us per compartment-step here, so 3e7 is ~6-9 s of simulation.
MIN_PARALLEL_WORK = 3e7

_state: dict = {"workers": 1, "min_work": MIN_PARALLEL_WORK, "pool": None, "progress": None, "runs": 0}


@contextlib.contextmanager
def simulation_workers(workers: int, *, min_work: float = MIN_PARALLEL_WORK,
                       progress: Callable[[str, int, int], None] | None = None) -> Iterator[None]:
    """Run large simulations inside the block on ``workers`` processes.

    Parameters
    ----------
    workers : int
        Processes to split samples over (1: the calling process only).
    min_work : float
        Runs of less work (compartment-steps) stay in the calling process.
    progress : callable, optional
        ``progress(step, done, total)`` after each finished part of a run (samples or f-I rows),
        e.g. :meth:`pretty_printer.progress.Progress.counter`.

    Raises
    ------
    ConfigError
        ``workers`` is not a positive integer, or ``min_work`` is negative.

    The worker processes start at the first large run and stop when the block ends.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: expected a positive integer, got {workers!r}")
    if not min_work >= 0:
        raise ConfigError(f"min_work: expected >= 0, got {min_work!r}")
    saved = dict(_state)
    _state.update(workers=workers, min_work=float(min_work), pool=None, progress=progress, runs=0)
    try:
        yield
    finally:
        pool = _state["pool"]
        _state.clear()
        _state.update(saved)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def n_parts(n_items: int, work: float) -> int:
    """How many processes a run of ``n_items`` samples and ``work`` compartment-steps uses."""
    if _state["workers"] == 1 or n_items < 2 or work < _state["min_work"]:
        return 1
    return min(_state["workers"], n_items)


def map_items(fn: Callable, args: Sequence[tuple], work: float, *, what: str = "items") -> list:
    """``[fn(*a) for a in args]``: on the worker processes when :func:`n_parts` allows it for
    ``len(args)`` items of ``work`` compartment-steps in all, else in the calling process."""
    return map_parts(fn, args, processes=n_parts(len(args), work) > 1, sizes=[1] * len(args), what=what)


def map_parts(fn: Callable, args: Sequence[tuple], *, processes: bool, sizes: Sequence[int],
              what: str = "samples") -> list:
    """``[fn(*a) for a in args]``, in order: on the worker processes, or here.

    ``sizes[i]`` is how many ``what`` part ``i`` holds; the ``progress`` callback of
    :func:`simulation_workers` hears their running sum as parts finish.

    Raises
    ------
    SimulationError
        A worker process died (for example killed when memory ran out).
    """
    _state["runs"] += 1
    step, total, done = f"run {_state['runs']}: {what}", int(sum(sizes)), 0
    report = _state["progress"] if len(args) > 1 else None
    if not processes:
        out = []
        for a, size in zip(args, sizes):
            out.append(fn(*a))
            done += size
            if report:
                report(step, done, total)
        return out
    if _state["pool"] is None:
        # spawn, not fork: the caller may hold threads (dask, numba) that a fork would copy mid-lock
        _state["pool"] = ProcessPoolExecutor(_state["workers"],
                                             mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {_state["pool"].submit(fn, *a): size for a, size in zip(args, sizes)}
        for f in as_completed(futures):
            f.result()  # a worker's exception surfaces at once
            done += futures[f]
            if report:
                report(step, done, total)
        return [f.result() for f in futures]
    except BrokenProcessPool as e:
        raise SimulationError(f"a NEURON worker process died ({e}); memory may have run out: "
                              f"rerun with --workers 1") from e
