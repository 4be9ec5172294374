"""``pretty-printer show``: PNG previews of a dataset (slices, barcodes, 3D, circuit)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("show", help="write PNG previews of a dataset",
                       description="Orthogonal slices per modality, an ExM barcode composite, a 3D render "
                                   "of the morphologies and synapses, and the circuit diagram.")
    p.add_argument("dataset", type=Path, help="dataset directory written by `generate`")
    p.add_argument("--out", type=Path, default=None, help="directory for the PNG files (required unless --neuroglancer)")
    p.add_argument("--neuroglancer", action="store_true",
                   help="print a neuroglancer viewer state (JSON) overlaying the scans and the truth, instead of PNGs")
    p.add_argument("--url-base", default=None,
                   help="HTTP address where DIR is served, for --neuroglancer (default: http://127.0.0.1:9000)")
    p.add_argument("--modality", action="append", default=None,
                   help="show only this modality (repeatable; default: all)")
    p.add_argument("--quiet", action="store_true", help="print nothing (no progress, no file list)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.errors import ConfigError

    if args.neuroglancer:
        from pretty_printer.viz.neuroglancer import DEFAULT_URL_BASE, neuroglancer_json

        print(neuroglancer_json(args.dataset, args.url_base or DEFAULT_URL_BASE))
        return 0
    if args.out is None:
        raise ConfigError("--out: expected a directory for the PNG files (or pass --neuroglancer), got nothing")
    from pretty_printer.viz.show import show

    made = show(args.dataset, args.out, progress=not args.quiet, modalities=args.modality)
    if not args.quiet:
        for p in made:
            print(p)
        print(f"wrote {len(made)} PNG files to {args.out}", file=sys.stderr)
    return 0
