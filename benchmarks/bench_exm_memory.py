"""Where the ExM baseline's memory goes: the traced peak of each step, in bytes per ExM voxel.

Usage::

    python benchmarks/bench_exm_memory.py [DATASET_DIR [SUB_DIR]] [--seed N]

The ExM twin of ``bench_em_memory.py`` (same wrappers): runs ``reconstruct --method baseline
--modality exm`` on ``DATASET_DIR`` and writes the submission to ``SUB_DIR`` (temporary
directories if not given; without ``DATASET_DIR`` a `tiny` dataset of seed ``N`` is generated
first) under :mod:`tracemalloc`.  Each step below is wrapped: on entry the traced memory, on exit
the highest traced memory while it ran (nested steps included), both divided by the number of
voxels of one ExM channel (issue 13, ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

from bench_em_memory import _traced

R = "pretty_printer.reconstruct."
STEPS = {
    R + "baseline_exm": ["_channel_signal", "_barcode_codes", "merge_short_codes", "decode_barcodes", "_synapses",
                         "find_puncta", "_synapse_table", "_with_stain_densities", "reconstruct_exm"],
    R + "puncta": ["matched_filter", "detect_peaks"],
    R + "barcode_blends": ["drop_mixed_pieces"],
    # not unmix_densities: a wrapper would hold the pS image that stain_densities hands it as a
    # temporary (and it frees once blurred), adding 8 B a voxel that the real run does not hold
    R + "stain_unmixing": ["component_pieces", "stain_densities"],
    "pretty_printer.submission.format": ["write_submission"],
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", nargs="?")
    p.add_argument("out", nargs="?")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    dataset = args.dataset
    if dataset is None:
        from pretty_printer.dataset.generate import generate
        from pretty_printer.dataset.presets import load_preset

        dataset = Path(tempfile.mkdtemp(prefix="bench-exm-memory-")) / "tiny"
        generate(load_preset("tiny"), dataset, args.seed, progress=False)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-exm-memory-sub-")) / "sub"

    record = _traced(STEPS)
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.reconstruct.methods import get_method
    from pretty_printer.submission import format as fmt

    ds = Dataset(dataset)
    arr, _ = ds.image("exm")
    n = int(arr[0].size)
    tracemalloc.start()
    sub = get_method("baseline", "exm")(ds, "exm", rng=0)
    fmt.write_submission(Path(out), sub, voxel_nm=ds.modality("exm")["voxel_nm"], force=True)
    tracemalloc.stop()
    print(f"ExM voxels: {n:,} x {arr.shape[0]} channels; traced memory per voxel (bytes), first call of each step")
    seen = set()
    for name, entry, peak in record:
        if name not in seen:
            seen.add(name)
            print(f"  {name:40s} entry {entry / n:5.1f}  peak {peak / n:5.1f}  ({peak / 1e6:.0f} MB)")
    print(f"  peak of the whole run: {max(p for _, _, p in record) / n:.1f} B a voxel")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
