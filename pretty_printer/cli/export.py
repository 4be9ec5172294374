"""``pretty-printer export``: a dataset's scan and ground truth in another community format."""

from __future__ import annotations

import sys
from pathlib import Path

FORMATS = ("cremi",)


def register(sub) -> None:
    p = sub.add_parser("export", help="export a scan with its ground truth (CREMI HDF5)",
                       description="Write one modality's image, cell labels, clefts and synaptic partners "
                                   "in CREMI's HDF5 layout, so existing CREMI tooling can read them.")
    p.add_argument("dataset", type=Path, help="dataset directory (with truth/)")
    p.add_argument("--format", default="cremi", help=f"one of: {', '.join(FORMATS)} (default: cremi)")
    p.add_argument("--modality", default="em", help="em | xray (single-channel scans; default: em)")
    p.add_argument("--out", required=True, type=Path, help="output .h5/.hdf file")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np
    import phantoms

    from pretty_printer.export.cremi import export_cremi
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.errors import ConfigError

    if args.format not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {args.format!r}")
    ds = Dataset(args.dataset)
    info = ds.modality(args.modality)
    if len(info["channels"]) != 1:
        raise ConfigError(f"--modality {args.modality!r}: expected a single-channel scan (CREMI holds one raw channel), got {len(info['channels'])} channels")
    arr, voxel = ds.image(args.modality)
    labels = ds.truth_labels(args.modality)
    ph = ds.phantom()
    origin = np.asarray(info["origin_nm"], float)
    clefts = phantoms.tissue_function(ph)(origin, labels.shape, voxel, ["cleft"])["cleft"]
    from pretty_printer.reconstruct.truth import sites_inside_cells, truth_synapse_table
    from pretty_printer.submission.format import POSITION_COLUMNS

    # sites inside their neurites, so CREMI's lookup at each site finds the partner cell
    syn = sites_inside_cells(truth_synapse_table(ph, ds.circuit()), labels, origin, voxel)
    synapses = {"pre_nm": np.stack([syn[c] for c in POSITION_COLUMNS[:3]], 1),
                "post_nm": np.stack([syn[c] for c in POSITION_COLUMNS[3:]], 1)}
    if args.out.is_dir():
        raise ConfigError(f"--out {str(args.out)!r}: expected an .h5 file path, got a directory")
    if not args.out.parent.is_dir():
        raise ConfigError(f"--out {str(args.out)!r}: expected a path in an existing directory, got parent {str(args.out.parent)!r} missing")
    tmp = args.out.with_name(args.out.name + ".tmp")
    try:
        export_cremi(tmp, np.asarray(arr[0]), voxel, neuron_ids=labels, clefts=clefts, synapses=synapses, offset_nm=origin)
        tmp.replace(args.out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {args.out} (CREMI layout: volumes/raw, volumes/labels/neuron_ids, volumes/labels/clefts, "
          f"annotations; {len(synapses['pre_nm'])} synaptic partners)", file=sys.stderr)
    return 0
