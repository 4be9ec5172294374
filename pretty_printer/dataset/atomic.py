"""Write a directory all at once or not at all: a locked temporary sibling renamed into place.

Used for datasets, submissions and every other directory the tool writes, so that an
interrupted or failing run leaves nothing half-written and two runs never write one place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from pretty_printer.errors import DatasetError


def _refuse_inside_dataset(out: Path) -> None:
    for parent in Path(os.path.abspath(out)).parents:
        if (parent / "public" / "manifest.json").is_file() or (parent / "truth" / "seed.json").is_file():
            raise DatasetError(f"--out {str(out)!r}: expected a directory outside any dataset, got one inside "
                               f"the dataset {str(parent)!r} (it would change what that dataset publishes)")


@contextlib.contextmanager
def _out_lock(out: Path) -> Iterator[None]:
    """An exclusive lock on ``out`` (a hidden ``.NAME.lock`` file beside it), refused if held."""
    import fcntl

    lock = out.parent / f".{out.name}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise DatasetError(f"--out {str(out)!r}: expected a writable parent directory, got {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatasetError(f"--out {str(out)!r}: expected no other run writing it, got one in progress "
                               f"(it holds {lock.name})") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the lock file after we opened it: take the new one
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _clean_stale(out: Path) -> None:
    """Remove temporary folders left by killed runs (only called while holding ``out``'s lock)."""
    for pattern in (f".{out.name}.tmp-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block succeeds.

    ``out`` is locked for the whole run (a second run into the same ``out`` is refused), hidden
    temporary folders of killed runs are removed first, and ``out`` may not lie inside another
    dataset.  With ``force`` the old directory is moved aside, the new one renamed into place,
    and only then the old one deleted.

    Raises
    ------
    DatasetError
        ``out`` is a file, non-empty without ``force``, inside a dataset, locked by another
        run, or its parent is not writable.
    """
    out = Path(out)
    if out.is_file() or (out.exists() and not out.is_dir()):
        raise DatasetError(f"--out {str(out)!r}: expected a directory, got an existing file")
    _refuse_inside_dataset(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"--out {str(out)!r}: expected a writable location, got {e.strerror or e}") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise DatasetError(f"--out {str(out)!r}: expected a writable parent directory, got one without write permission")
    with _out_lock(out):
        if out.exists() and any(out.iterdir()) and not force:
            raise DatasetError(f"--out {str(out)!r}: expected a new or empty directory, got an existing non-empty one (use --force to replace it)")
        _clean_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "x")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
