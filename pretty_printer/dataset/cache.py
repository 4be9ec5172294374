"""The stage cache: expensive stages stored under a key of exactly what they depend on.

An entry is a directory ``<root>/<stage>/<key>/`` holding the stage's files and ``entry.json``,
which lists the SHA-256 of every file.  The key is the SHA-256 of the stage name, the inputs the
stage reads (preset keys, seed, keys of the stages it consumes) and the code version (a hash of
every source file of ``pretty_printer``, ``phantoms`` and ``scanners``), so any code change
invalidates every entry.

Entries are written into a temporary sibling and renamed into place (atomic).  Reading verifies
every file's hash; an entry that fails (truncated, edited, missing a file) is deleted and
reported as a miss, so a corrupt entry is never used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

CACHE_FORMAT = "neural-pretty-printer/stage-cache@1"
ENTRY = "entry.json"
_SOURCE_PACKAGES = ("pretty_printer", "phantoms", "scanners")
_SOURCE_SUFFIXES = (".py", ".mod", ".toml")


def default_cache_dir() -> Path:
    """``<the per-user cache>/stages`` (see :func:`pretty_printer.circuit.cellmodels.cache_dir`)."""
    from pretty_printer.circuit.cellmodels import cache_dir

    return cache_dir() / "stages"


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """SHA-256 over every source file (relative path and bytes) of the three packages."""
    import importlib

    h = hashlib.sha256()
    for name in _SOURCE_PACKAGES:
        root = Path(importlib.import_module(name).__file__).parent
        for p in sorted(root.rglob("*")):
            if p.suffix in _SOURCE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts:
                h.update(f"{name}/{p.relative_to(root).as_posix()}".encode() + b"\0")
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def stage_key(stage: str, inputs: dict[str, Any]) -> str:
    """The key of one stage: SHA-256 of its name, its inputs (JSON, sorted) and the code version."""
    blob = json.dumps({"stage": stage, "inputs": inputs, "code": code_version()}, sort_keys=True,
                      default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    return hashlib.sha256(blob.encode()).hexdigest()


def _file_hashes(directory: Path) -> dict[str, str]:
    out = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != ENTRY:
            out[p.relative_to(directory).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class StageCache:
    """Stage entries under ``root``; ``root=None`` disables the cache (every lookup misses).

    Attributes
    ----------
    hits, misses : list of str
        Stage names looked up in this object's lifetime (for reports and tests).
    """

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.hits: list[str] = []
        self.misses: list[str] = []
        self._scratch: list[Path] = []

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def entry(self, stage: str, key: str) -> Path | None:
        """The verified entry directory, or None (missing, or corrupt and now deleted)."""
        if self.root is None:
            return None
        d = self.root / stage / key
        try:
            meta = json.loads((d / ENTRY).read_text())
            ok = meta.get("format") == CACHE_FORMAT and meta.get("key") == key and meta["files"] == _file_hashes(d)
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            if d.exists():
                shutil.rmtree(d, ignore_errors=True)  # corrupt: never used, recomputed by the caller
            return None
        return d

    def fetch_or_build(self, stage: str, key: str, build: Callable[[Path], None]) -> Path:
        """The entry for ``(stage, key)``: verified from disk, or built by ``build(directory)``.

        ``build`` writes the stage's files into the directory it is given.  With the cache
        disabled it runs in a fresh temporary directory, which :meth:`close` deletes once the
        caller has copied what it needs.
        """
        found = self.entry(stage, key)
        if found is not None:
            self.hits.append(stage)
            return found
        self.misses.append(stage)
        if self.root is None:
            d = Path(tempfile.mkdtemp(prefix=f"npp-{stage}-"))
            self._scratch.append(d)
            build(d)
            return d
        parent = self.root / stage
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.tmp-", dir=parent))
        try:
            build(tmp)
            meta = {"format": CACHE_FORMAT, "stage": stage, "key": key, "files": _file_hashes(tmp)}
            (tmp / ENTRY).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            final = parent / key
            try:
                os.replace(tmp, final)
            except OSError:  # another process stored the same entry first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
            return final if self.entry(stage, key) is not None else self._rebuild_failed(stage, key)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def close(self) -> None:
        """Delete the temporary directories a disabled cache built stages in (stored entries stay)."""
        while self._scratch:
            shutil.rmtree(self._scratch.pop(), ignore_errors=True)

    def _rebuild_failed(self, stage: str, key: str):
        raise OSError(f"stage cache {str(self.root)!r}: entry {stage}/{key[:16]} did not verify right after writing")


def copy_files(src: Path, dst: Path, names) -> None:
    """Copy files or directory trees ``names`` from ``src`` into ``dst``."""
    for name in names:
        s, d = Path(src) / name, Path(dst) / name
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, d)
