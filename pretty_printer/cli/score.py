"""``pretty-printer score``: dataset + submission -> scorecard (table, JSON, HTML)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pretty_printer.scoring.conventions import DEFAULT_VI_CONVENTION, SYNAPSE_THRESHOLD_NM, VI_CONVENTIONS


def register(sub) -> None:
    p = sub.add_parser("score", help="score a submission against a dataset's truth",
                       description="Score structure (segmentation, synapses, connectome) and function "
                                   "(re-simulate the rebuilt circuit on the task's held-out inputs). "
                                   "The dataset's truth is first checked against the commitment in its "
                                   "public/manifest.json.")
    p.add_argument("dataset", type=Path, help="dataset directory (with truth/)")
    p.add_argument("submission", type=Path, help="submission directory")
    p.add_argument("--json", type=Path, default=None, help="write the scorecard as JSON here")
    p.add_argument("--html", type=Path, default=None, help="write a self-contained HTML report here")
    p.add_argument("--threshold-nm", type=float, default=None,
                   help=f"synaptic-partner matching distance in nm (default: {SYNAPSE_THRESHOLD_NM:g} nm)")
    p.add_argument("--vi-convention", default=DEFAULT_VI_CONVENTION, metavar="NAME",
                   help=f"how submission label 0 counts in VI/ARAND: {' | '.join(VI_CONVENTIONS)} "
                        f"(default: {DEFAULT_VI_CONVENTION}: each unassigned voxel its own segment; "
                        "cremi: label 0 is one ordinary segment, as in CREMI)")
    p.add_argument("--url-base", default=None, metavar="URL",
                   help="HTTP address where DATASET is served (e.g. http://127.0.0.1:9000); the HTML report's "
                        "diagnostics then link each entry to neuroglancer (default: no links, image crops only)")
    p.add_argument("--no-function", action="store_true", help="skip the (slower) function score")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for the function score's NEURON runs (default: every core; 1: this process only)")
    p.set_defaults(func=run)


def check_output_file(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output path that is a directory or cannot be written."""
    from pretty_printer.errors import ConfigError

    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"{option} {str(path)!r}: expected a file path, got a directory")
    parent = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in [parent, *parent.parents] if p.exists()), Path("."))
    if not existing.is_dir():
        raise ConfigError(f"{option} {str(path)!r}: expected a path under a directory, got {str(existing)!r}, a file")
    if not os.access(existing, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{option} {str(path)!r}: expected a writable location, got one without write permission")


def run(args) -> int:
    from pretty_printer.errors import ConfigError
    from pretty_printer.scoring.score import format_scorecard, score

    threshold = SYNAPSE_THRESHOLD_NM if args.threshold_nm is None else args.threshold_nm
    if not threshold > 0 or threshold == float("inf"):
        raise ConfigError(f"--threshold-nm: expected a positive distance in nm, got {threshold}")
    if args.vi_convention not in VI_CONVENTIONS:
        raise ConfigError(f"--vi-convention: expected one of {', '.join(VI_CONVENTIONS)}, got {args.vi_convention!r}")
    check_output_file(args.json, "--json")
    check_output_file(args.html, "--html")
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.sim.parallel import simulation_workers

    with simulation_workers(EngineConfig(workers=args.workers).n_local):  # EngineConfig checks --workers
        card = score(args.dataset, args.submission, threshold_nm=threshold, function=not args.no_function,
                     vi_convention=args.vi_convention)
    from pretty_printer.studies.leaderboard import fails_most

    print(f"fails most at: {fails_most(card)}")  # the same summary as the leaderboard's column
    print(format_scorecard(card))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(f".{args.json.name}.tmp")
        tmp.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, args.json)
    if args.html:
        from pretty_printer.viz.report import write_html_report

        write_html_report(card, args.html, dataset_dir=args.dataset, submission_dir=args.submission,
                          url_base=args.url_base)
    return 0
