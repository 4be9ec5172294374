"""Progress reporting on stderr: numbered stages with timings, and bars for chunk loops."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


class Progress:
    """Prints ``[i/n] what ... done (t s)`` lines; silent when ``enabled`` is False."""

    def __init__(self, n_stages: int, enabled: bool = True):
        self.n = n_stages
        self.i = 0
        self.enabled = enabled

    @contextlib.contextmanager
    def stage(self, what: str) -> Iterator[None]:
        self.i += 1
        t0 = time.perf_counter()
        if self.enabled:
            sys.stderr.write(f"[{self.i}/{self.n}] {what} ...\n")
            sys.stderr.flush()
        yield
        if self.enabled:
            sys.stderr.write(f"[{self.i}/{self.n}] {what}: done ({time.perf_counter() - t0:.1f} s)\n")
            sys.stderr.flush()

    def bar(self, items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
        if not self.enabled:
            return items
        from tqdm import tqdm

        return tqdm(items, desc=f"      {desc}", total=total, file=sys.stderr, leave=False,
                    mininterval=0.5, disable=None)

    def counter(self, desc: str) -> Callable[[str, int, int], None] | None:
        """A ``callback(step, done, total)`` that draws one bar per step (None when disabled).

        For library loops that report progress by callback (e.g. ``phantoms.grow(progress=...)``).
        """
        if not self.enabled:
            return None
        from tqdm import tqdm

        bars: dict = {}

        def update(step: str, done: int, total: int) -> None:
            bar = bars.get(step)
            if bar is None:
                bar = bars[step] = tqdm(total=total, desc=f"      {desc}: {step}", file=sys.stderr,
                                        leave=False, mininterval=0.5, disable=None)
            bar.update(done - bar.n)
            if done >= total:
                bar.close()

        return update
