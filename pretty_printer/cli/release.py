"""``pretty-printer release``: package a benchmark's public/ for participants (or verify its truth)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("release", help="package a dataset's or track's public/ for participants",
                       description="Write an archive with every level's public/ (the truth stays behind), "
                                   "COMMITMENT.txt (SHA-256 of each withheld truth/) and a README for "
                                   "participants. With --verify: check a dataset's truth/ against its "
                                   "commitment (in the archive given by --against, else its own manifest).")
    p.add_argument("benchmark", type=Path, help="dataset directory (public/ + truth/) or track directory")
    p.add_argument("--out", type=Path, default=None, metavar="ARCHIVE", help="archive to write (.tar.gz, .tgz or .zip)")
    p.add_argument("--verify", action="store_true", help="check truth/ against the commitment instead")
    p.add_argument("--against", type=Path, default=None, metavar="ARCHIVE",
                   help="with --verify: the released archive whose commitments are checked")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


def run(args) -> int:
    from pretty_printer.dataset.release import release, verify
    from pretty_printer.errors import ConfigError, DatasetError

    if args.verify:
        rows = verify(args.benchmark, args.against)
        bad = [name or "." for name, want, got in rows if want != got]
        if not args.quiet:
            for name, want, got in rows:
                print(f"{'ok      ' if want == got else 'MISMATCH'} {name or '.'}  committed {want}  truth {got}")
        if bad:
            raise DatasetError(f"truth/ of {', '.join(bad)} does not match the commitment")
        return 0
    if args.out is None:
        raise ConfigError("--out: expected an archive path (e.g. release.tar.gz), got none")
    out = release(args.benchmark, args.out)
    if not args.quiet:
        print(f"wrote {out} (public/ only; truth withheld, committed in COMMITMENT.txt)", file=sys.stderr)
    return 0
