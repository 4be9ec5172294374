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

from bench_em_memory import run

R = "pretty_printer.reconstruct."
STEPS = {
    R + "baseline_exm": ["_channel_signal", "_barcode_codes", "merge_short_codes", "decode_barcodes", "_synapses",
                         "_with_stain_densities", "reconstruct_exm"],
    R + "exm_synapses": ["find_puncta", "synapse_table"],
    R + "puncta": ["matched_filter", "detect_peaks"],
    R + "barcode_blends": ["drop_mixed_pieces"],
    # not unmix_densities: a wrapper would hold the pS image that stain_densities hands it as a
    # temporary (and it frees once blurred), adding 8 B a voxel that the real run does not hold
    R + "stain_unmixing": ["component_pieces", "stain_densities"],
    "pretty_printer.submission.format": ["write_submission"],
}


def main(argv=None) -> int:
    return run("exm", STEPS, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
