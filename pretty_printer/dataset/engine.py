"""The chunk engine: rasterizing, scanning, writing labels and meshing as dask tasks over Zarr chunks.

Each task renders one chunk-aligned region and writes it straight into its own Zarr chunks, so
no task waits for another, nothing is gathered into one process, and memory stays bounded by a
few chunks per worker.  Images are byte-identical whatever the worker count or scheduler: every
random draw is counter-based on global voxel indices (``scanners/noise.py``), and the whole-region
draws (artifacts) are made once, before the tasks, by :meth:`scanners.base.Scanner.prepare`.

Three ways to run the same graph:

* ``workers=1``: in this process, no dask scheduler (the reference run);
* ``workers=N`` (default: every core this process may use): a ``dask.distributed.LocalCluster``
  of N single-threaded worker processes, started for the run and stopped after it;
* ``scheduler="tcp://host:8786"``: an existing ``dask.distributed`` cluster.  Its workers must
  import the same version of ``pretty_printer``, ``phantoms`` and ``scanners`` and see the
  output directory (a shared file system).
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from pretty_printer.errors import ConfigError


def local_cores() -> int:
    """Cores this process may run on (``os.sched_getaffinity``, else ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineConfig:
    """Where chunk tasks run.

    Parameters
    ----------
    workers : int or None
        Local worker processes; None means :func:`local_cores`.  1 runs in this process.
        Ignored when ``scheduler`` is given (the cluster has its own workers).
    scheduler : str or None
        Address of an existing ``dask.distributed`` scheduler, e.g. ``tcp://10.0.0.5:8786``.
    """

    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        w = self.workers
        if w is not None and (isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1):
            raise ConfigError(f"--workers: expected a positive integer, got {w!r}")
        if self.scheduler is not None and (not isinstance(self.scheduler, str) or not self.scheduler.strip()):
            raise ConfigError(f"--scheduler: expected a scheduler address such as tcp://host:8786, got {self.scheduler!r}")

    @property
    def n_local(self) -> int:
        return int(self.workers) if self.workers is not None else local_cores()


class Engine:
    """A context manager that runs chunk tasks (see the module docstring).

    ``map(fn, shared, items)`` calls ``fn(*shared, item)`` for every item; ``shared`` objects
    (the tissue, a prepared render) are sent to each worker once.  ``submit`` adds one task to a
    graph (after given tasks, taking their results as arguments) and ``wait`` runs the graph, so
    independent stages (a pyramid level, the next modality's labels) overlap on the workers.
    An engine that is not entered, or runs one worker, calls every task at once, in this process.
    """

    def __init__(self, config: EngineConfig | None = None):
        self.config = config or EngineConfig()
        self.client = None
        self._cluster = None
        self._sent: dict[int, tuple[Any, Any]] = {}
        self._pending: list = []

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def __enter__(self) -> "Engine":
        cfg = self.config
        if cfg.scheduler is None and cfg.n_local == 1:
            return self
        from distributed import Client, LocalCluster

        if cfg.scheduler is not None:
            try:
                self.client = Client(cfg.scheduler, timeout="20s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                raise ConfigError(f"--scheduler {cfg.scheduler!r}: could not connect to a dask scheduler ({e})") from e
        else:
            # no dashboard; the scheduler's HTTP server (health, metrics) still starts, on a free
            # local port: its default 8787 warns "already in use" when another cluster holds it.
            # Workers log only CRITICAL: a busy worker's heartbeat racing the scheduler's shutdown
            # printed an ERROR traceback at the end of a good 64x run; a failed task still raises
            # its own exception here (and a killed worker raises KilledWorker)
            self._cluster = LocalCluster(n_workers=cfg.n_local, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.CRITICAL,
                                         scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            self.client = Client(self._cluster, set_as_default=False)
        return self

    def __exit__(self, *exc) -> None:
        self._sent.clear()
        self._pending.clear()
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    def _send(self, obj):
        """A future for ``obj`` held by every worker (sent once per engine)."""
        key = id(obj)
        if key not in self._sent:
            self._sent[key] = (obj, self.client.scatter(obj, broadcast=True, hash=False))
        return self._sent[key][1]

    def submit(self, fn: Callable, *args, shared: Sequence[Any] = (), after: Sequence[Any] = ()):
        """Run ``fn(*shared, *args)`` as one task, after the tasks ``after``; returns its handle.

        A handle among ``args`` stands for that task's result.  ``shared`` objects go to each
        worker once (as in :meth:`map`).  In this process the task runs now (dependencies have run
        already: they were submitted first) and the handle is a :class:`Done`.
        """
        if self.client is None:
            return Done(fn(*shared, *(a.value if isinstance(a, Done) else a for a in args)))
        remote = [self._send(s) for s in shared]
        fut = self.client.submit(_call_after, fn, len(remote) + len(args), *remote, *args, *after, pure=False,
                                 key=f"{getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex}")  # named on the dashboard
        self._pending.append(fut)
        return fut

    def wait(self, bar=None) -> None:
        """Wait for every task submitted so far; raises the first failed task's exception.

        ``bar`` is an optional ``(iterable, total) -> iterable`` progress wrapper.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        from distributed import as_completed

        wrap = bar or (lambda it, total: it)
        for fut in wrap(as_completed(pending, loop=self.client.loop), len(pending)):
            fut.result()  # raises the task's own exception here

    def map(self, fn: Callable, shared: Sequence[Any], items: Sequence[Any], *, fixed: Sequence[Any] = (),
            bar=None) -> list:
        """``[fn(*shared, *fixed, item) for item in items]`` as dask tasks; results in item order.

        ``shared`` objects (large: tissue, prepared render) go to each worker once; ``fixed`` (small)
        travel with every task.  ``bar`` is an optional ``(iterable, total) -> iterable`` wrapper
        for a progress bar.
        """
        items = list(items)
        wrap = bar or (lambda it, total: it)
        if self.client is None:
            return [fn(*shared, *fixed, item) for item in wrap(items, len(items))]
        from distributed import as_completed

        remote = [self._send(s) for s in shared]
        futures = [self.client.submit(fn, *remote, *fixed, item, pure=False) for item in items]
        for fut in wrap(as_completed(futures, loop=self.client.loop), len(futures)):
            fut.result()  # raises the task's own exception here
        return [f.result() for f in futures]


class Done:
    """The handle of a task that already ran in this process: its ``value``."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _call_after(fn: Callable, n_args: int, *args_then_deps):
    """``fn`` of the first ``n_args`` arguments; the rest are finished tasks it had to wait for."""
    return fn(*args_then_deps[:n_args])


# --------------------------------------------------------------------------- tasks
def open_level0(path: str):
    """Level ``0`` of the OME-Zarr group at ``path``, opened for writing (in a task)."""
    import zarr

    return zarr.open_group(path, mode="r+")["0"]


def scan_task(scanner, tissue, job, path: str, zyx) -> None:
    """Render one chunk of a prepared scan and write it into the Zarr array at ``path``."""
    sl, block = scanner.render_chunk(tissue, job, zyx)
    open_level0(path)[tuple(sl)] = block


def chunk_boxes(shape, chunk):
    """Slices tiling ``shape`` with blocks of ``chunk`` (the last ones clipped)."""
    ranges = [range(0, s, c) for s, c in zip(shape, chunk)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(a, min(a + c, s)) for a, c, s in zip(starts, chunk, shape))


def check_aligned(boxes: Sequence[tuple[slice, ...]], zarr_chunks: Sequence[int], shape: Sequence[int]) -> None:
    """Check every task region starts and ends on the Zarr chunk grid (so tasks never share a chunk).

    Raises
    ------
    ValueError
        Naming the first region that straddles a chunk boundary.
    """
    for box in boxes:
        for s, c, n in zip(box, zarr_chunks, shape):
            if s.start % c or (s.stop % c and s.stop != n):
                raise ValueError(f"task region {box} is not on the Zarr chunk grid {tuple(zarr_chunks)}")


def as_path(p: Path) -> str:
    return str(Path(p).resolve())
