"""The truth commitment: one SHA-256 over every file under ``truth/``, published before the
truth is, so that anyone can later check the truth they are scored against is the one committed to."""

from __future__ import annotations

import hashlib
from pathlib import Path


def truth_digests(truth_dir: Path) -> dict[str, str]:
    """SHA-256 (hex) of every file under ``truth_dir``, keyed by its POSIX path relative to it."""
    truth_dir = Path(truth_dir)
    out = {}
    for p in truth_dir.rglob("*"):
        if p.is_file():
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            out[p.relative_to(truth_dir).as_posix()] = h.hexdigest()
    return dict(sorted(out.items()))


def truth_commitment(truth_dir: Path | None = None, digests: dict[str, str] | None = None) -> str:
    """SHA-256 over every truth file: for each file in sorted POSIX relative-path order, the
    UTF-8 path, a NUL byte and the file's own SHA-256 digest (32 bytes).

    Published in ``public/manifest.json`` (``truth_sha256``; the per-file digests, which name the
    first file that differs, are in ``public/commitment.json``) so that ``truth/`` can be checked against what was committed to when the
    images were released; scoring checks it first (:meth:`Dataset.verify_truth`).  Every file
    under ``truth/`` counts, whatever stage wrote it.
    """
    digests = truth_digests(truth_dir) if digests is None else digests
    h = hashlib.sha256()
    for rel in sorted(digests):
        h.update(rel.encode() + b"\0")
        h.update(bytes.fromhex(digests[rel]))
    return h.hexdigest()
