"""``pretty-printer leaderboard``: score many submissions into one ranked table and report."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("leaderboard", help="score many submissions against one benchmark and rank them",
                       description="For a dataset, each SUB is a submission directory; for a track, each SUB "
                                   "holds one submission per level (SUB/<level>/). A SUB is named by its "
                                   "directory, or with as many parents as tell same-named ones apart "
                                   "(subs/a/em-easy, subs/b/em-easy: a/em-easy, b/em-easy). Prints the ranked "
                                   "table, levels in the track's order then each submission's mean; --csv "
                                   "(levels only) and --html write it (the HTML links every level's full "
                                   "scorecard).")
    p.add_argument("benchmark", type=Path, help="dataset or track directory (with truth/)")
    p.add_argument("submissions", type=Path, nargs="+", metavar="SUB", help="submission directories")
    p.add_argument("--csv", type=Path, default=None, help="write the table as CSV here")
    p.add_argument("--html", type=Path, default=None, help="write the ranked report as HTML here")
    p.add_argument("--threshold-nm", type=float, default=None,
                   help="synaptic-partner matching distance in nm (default: the scorer's)")
    p.add_argument("--no-function", action="store_true", help="skip the (slower) function scores")
    p.add_argument("--quiet", action="store_true", help="no progress and no table on stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.errors import ConfigError
    from pretty_printer.studies import leaderboard as lb

    if args.threshold_nm is not None and not args.threshold_nm > 0:
        raise ConfigError(f"--threshold-nm: expected a positive distance, got {args.threshold_nm}")
    say = None if args.quiet else (lambda sub, level: print(f"scoring {sub}{' on ' + level if level else ''} ...",
                                                             file=sys.stderr, flush=True))
    entries = lb.score_entries(args.benchmark, args.submissions, function=not args.no_function,
                               threshold_nm=args.threshold_nm, progress=say)
    if args.csv:
        lb.write_csv(entries, args.csv)
    if args.html:
        lb.write_html(entries, args.html, title=f"Leaderboard: {args.benchmark.name}")
    if not args.quiet:
        print(lb.format_table(entries))
    return 0
