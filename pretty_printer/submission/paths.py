"""Containment: every file a submission names lies inside the submission directory.

A submission is untrusted input.  A path in ``submission.json`` may not be absolute, may not
climb out with ``..``, and may not reach outside through a symlink (anywhere along the path, or
anywhere inside a directory store such as a Zarr).  Refusals name the field and the path as the
submitter wrote it, never the contents of any file.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from pretty_printer.errors import SubmissionError


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def contained(root: Path, relative: str, field: str) -> Path:
    """Resolve ``relative`` inside ``root``; refuse anything that would leave it.

    Parameters
    ----------
    root : Path
        The submission directory.
    relative : str
        A path as written in ``submission.json`` (POSIX separators).
    field : str
        The ``submission.json`` key, for the error message.

    Returns
    -------
    Path
        The path under ``root`` (not resolved, so error messages stay readable).

    Raises
    ------
    SubmissionError
        If the path is empty, absolute, contains ``..``, or resolves (through symlinks) outside
        ``root``; for a directory, if any entry inside it is a symlink leading outside ``root``.
    """
    if not relative or not relative.strip():
        raise SubmissionError(f"submission.json {field}: expected a file name inside the submission, got an empty string")
    if "\0" in relative:
        raise SubmissionError(f"submission.json {field}: expected a file name, got a string with a NUL byte")
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        raise SubmissionError(f"submission.json {field}: expected a path relative to the submission directory, got absolute path {relative!r}")
    if ".." in PurePosixPath(relative.replace("\\", "/")).parts:
        raise SubmissionError(f"submission.json {field}: expected a path inside the submission directory, got {relative!r} (contains '..')")
    root_real = Path(os.path.realpath(root))
    path = Path(root) / relative
    if not _inside(Path(os.path.realpath(path)), root_real):
        raise SubmissionError(f"submission.json {field}: expected a path inside the submission directory, got {relative!r}, a symlink leading outside it")
    if path.is_dir():
        _check_tree(path, root_real, field, relative)
    return path


def _check_tree(path: Path, root_real: Path, field: str, relative: str) -> None:
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in dirnames + filenames:
            entry = Path(dirpath) / name
            if entry.is_symlink() and not _inside(Path(os.path.realpath(entry)), root_real):
                inner = entry.relative_to(path).as_posix()
                raise SubmissionError(
                    f"submission.json {field}: expected every file of {relative!r} inside the submission "
                    f"directory, got {inner!r}, a symlink leading outside it")
