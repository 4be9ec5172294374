"""Where the EM baseline's memory goes: the traced peak of each step, in bytes per EM voxel.

Usage::

    python benchmarks/bench_em_memory.py [DATASET_DIR [SUB_DIR]] [--seed N]

Runs ``reconstruct --method baseline --modality em`` on ``DATASET_DIR`` (its ``public/`` part) and
writes the submission to ``SUB_DIR`` (a temporary directory if not given), under
:mod:`tracemalloc` (numpy reports its array buffers to it).  Without ``DATASET_DIR`` a `tiny`
dataset of seed ``N`` is generated into a temporary directory first (a few minutes).  Each step below is wrapped: on entry the traced memory, on exit the highest traced memory
while it ran (nested steps included), both divided by the number of EM voxels.  Tracing slows the
run down several times; the process's own peak (``/usr/bin/time -v``) adds the interpreter and
libraries (~155 MB) and allocator slack on top (issue 13, ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import tempfile
import tracemalloc
from pathlib import Path

R = "pretty_printer.reconstruct."
STEPS = {
    R + "baseline_em": ["em_lightness", "reconstruct_lightness"],
    R + "dense_segmentation": ["classify", "cell_interiors", "link_sections", "grow_over_membranes", "foreground",
                               "assign_foreground", "merge_enclosed", "segment_dense"],
    R + "clefts": ["detect_clefts"],
    R + "excitability": ["soma_radii_nm"],
    "pretty_printer.submission.format": ["write_submission"],
}


def _traced(steps: dict) -> list[tuple[str, int, int]]:
    """Wrap ``steps`` (module -> function names) in place, also where another module imported
    them by name; returns the list the wrappers append (name, entry bytes, peak bytes) to."""
    record: list[tuple[str, int, int]] = []
    stack: list[int] = []  # the highest traced memory of each open step's finished children

    def wrap(name, f):
        @functools.wraps(f)
        def g(*args, **kwargs):
            entry, peak = tracemalloc.get_traced_memory()
            if stack:
                stack[-1] = max(stack[-1], peak)
            stack.append(0)
            tracemalloc.reset_peak()
            try:
                return f(*args, **kwargs)
            finally:
                top = max(stack.pop(), tracemalloc.get_traced_memory()[1])
                if stack:
                    stack[-1] = max(stack[-1], top)
                tracemalloc.reset_peak()
                record.append((name, entry, top))
        return g

    wrapped = {}
    for mod, names in steps.items():
        m = importlib.import_module(mod)
        for n in names:
            f = getattr(m, n)
            wrapped[f] = wrap(f"{mod.rsplit('.', 1)[-1]}.{n}", f)
            setattr(m, n, wrapped[f])
    for mod in list(steps) + [R + "registry"]:
        m = importlib.import_module(mod)
        for k, v in list(vars(m).items()):
            if callable(v) and v in wrapped:
                setattr(m, k, wrapped[v])
    return record


def run(modality: str, steps: dict, description: str, argv=None) -> int:
    """Parse ``[DATASET_DIR [SUB_DIR]] [--seed N]``, run the ``modality`` baseline under
    :mod:`tracemalloc` with ``steps`` wrapped (:func:`_traced`), print each step's traced memory per
    voxel of one channel (shared with ``bench_exm_memory.py``)."""
    p = argparse.ArgumentParser(description=description.splitlines()[0])
    p.add_argument("dataset", nargs="?")
    p.add_argument("out", nargs="?")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    dataset = args.dataset
    if dataset is None:
        from pretty_printer.dataset.generate import generate
        from pretty_printer.dataset.presets import load_preset

        dataset = Path(tempfile.mkdtemp(prefix=f"bench-{modality}-memory-")) / "tiny"
        generate(load_preset("tiny"), dataset, args.seed, progress=False)
    out = args.out or Path(tempfile.mkdtemp(prefix=f"bench-{modality}-memory-sub-")) / "sub"

    record = _traced(steps)
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.reconstruct.methods import get_method
    from pretty_printer.submission import format as fmt

    ds = Dataset(dataset)
    arr, _ = ds.image(modality)
    n = int(arr[0].size)
    tracemalloc.start()
    sub = get_method("baseline", modality)(ds, modality, rng=0)
    fmt.write_submission(Path(out), sub, voxel_nm=ds.modality(modality)["voxel_nm"], force=True)
    tracemalloc.stop()
    print(f"{modality} voxels: {n:,} x {arr.shape[0]} channel(s); traced memory per voxel of one channel "
          "(bytes), first call of each step")
    seen = set()
    for name, entry, peak in record:
        if name not in seen:
            seen.add(name)
            print(f"  {name:40s} entry {entry / n:5.1f}  peak {peak / n:5.1f}  ({peak / 1e6:.0f} MB)")
    print(f"  peak of the whole run: {max(p for _, _, p in record) / n:.1f} B a voxel")
    return 0


def main(argv=None) -> int:
    return run("em", STEPS, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
