"""``pretty-printer score``: dataset + submission -> scorecard (table, JSON, HTML)."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("score", help="score a submission against a dataset's truth",
                       description="Score structure (segmentation, synapses, connectome) and function "
                                   "(re-simulate the rebuilt circuit on the task's held-out inputs).")
    p.add_argument("dataset", type=Path, help="dataset directory (with truth/)")
    p.add_argument("submission", type=Path, help="submission directory")
    p.add_argument("--json", type=Path, default=None, help="write the scorecard as JSON here")
    p.add_argument("--html", type=Path, default=None, help="write a self-contained HTML report here")
    p.add_argument("--threshold-nm", type=float, default=None,
                   help="synaptic-partner matching distance in nm (default: scoring.SYNAPSE_THRESHOLD_NM)")
    p.add_argument("--no-function", action="store_true", help="skip the (slower) function score")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.errors import ConfigError
    from pretty_printer.scoring.score import SYNAPSE_THRESHOLD_NM, format_scorecard, score

    threshold = SYNAPSE_THRESHOLD_NM if args.threshold_nm is None else args.threshold_nm
    if threshold <= 0:
        raise ConfigError(f"--threshold-nm: expected a positive distance, got {threshold}")
    card = score(args.dataset, args.submission, threshold_nm=threshold, function=not args.no_function)
    print(format_scorecard(card))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
    if args.html:
        from pretty_printer.viz.report import write_html_report

        write_html_report(card, args.html)
    return 0
