"""Release a benchmark: package ``public/`` only, with the truth commitment and a participants' README.

A benchmark is one dataset directory (``public/`` + ``truth/``) or a track (``track.json`` and one
dataset per level, see :mod:`pretty_printer.dataset.track`).  The archive holds, per dataset, every
file under ``public/`` (its ``manifest.json`` carries ``truth_sha256``, the commitment to the withheld
``truth/``), plus ``README.md`` and ``COMMITMENT.txt`` at the top.  Nothing under ``truth/`` is ever
read into the archive.  Later, :func:`verify` recomputes the commitment of a published ``truth/`` and
compares it with the one in the released archive (or in the dataset's own manifest).

Archives are deterministic: sorted entries, zero timestamps and owners, so the same benchmark
releases to the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

from pretty_printer import __version__
from pretty_printer.dataset.layout import MANIFEST_FORMAT, read_json, truth_commitment
from pretty_printer.errors import ConfigError, DatasetError

TRACK_FILE = "track.json"
SUFFIXES = (".tar.gz", ".tgz", ".zip")


def find_datasets(root: Path) -> list[tuple[str, Path]]:
    """``(level name, dataset dir)`` pairs of a benchmark; a lone dataset is one level named ``""``.

    Raises
    ------
    DatasetError
        ``root`` is neither a dataset (``public/manifest.json``) nor a track (``track.json``).
    """
    root = Path(root)
    if (root / "public" / "manifest.json").is_file():
        return [("", root)]
    if (root / TRACK_FILE).is_file():
        levels = [lv["name"] for lv in read_json(root / TRACK_FILE)["levels"]]
        missing = [n for n in levels if not (root / n / "public" / "manifest.json").is_file()]
        if missing:
            raise DatasetError(f"track {str(root)!r}: level {missing[0]!r} has no public/manifest.json "
                               "(unfinished? rerun `pretty-printer track`)")
        return [(n, root / n) for n in levels]
    raise DatasetError(f"{str(root)!r}: expected a dataset (public/manifest.json) or a track ({TRACK_FILE})")


def _members(root: Path) -> list[tuple[str, bytes]]:
    """(archive path, bytes) of everything a release holds, in a fixed order."""
    datasets = find_datasets(root)
    out = []
    if datasets[0][0]:
        out.append((TRACK_FILE, (root / TRACK_FILE).read_bytes()))
    commitments = []
    for name, ds in datasets:
        manifest = read_json(ds / "public" / "manifest.json")
        if manifest.get("format") != MANIFEST_FORMAT:
            raise DatasetError(f"dataset {str(ds)!r}: manifest format {manifest.get('format')!r} is not {MANIFEST_FORMAT!r}")
        committed = manifest.get("truth_sha256")
        if (ds / "truth").is_dir() and truth_commitment(ds / "truth") != committed:
            raise DatasetError(f"dataset {str(ds)!r}: truth/ no longer matches the manifest's truth_sha256; "
                               "regenerate the dataset before releasing it")
        commitments.append((name or ".", committed))
        prefix = f"{name}/public" if name else "public"
        for p in sorted((ds / "public").rglob("*")):
            if p.is_file():
                out.append((f"{prefix}/{p.relative_to(ds / 'public').as_posix()}", p.read_bytes()))
    text = "".join(f"{sha}  {name}\n" for name, sha in commitments)
    out.insert(0, ("COMMITMENT.txt", text.encode()))
    out.insert(0, ("README.md", participant_readme(datasets).encode()))
    return out


def participant_readme(datasets: list[tuple[str, Path]]) -> str:
    """The README shipped in a release: what is inside, what to submit, how the truth is checked."""
    from pretty_printer.submission import format as submission_format

    lines = ["# Benchmark release", "",
             f"Made with neural-pretty-printer {__version__}.  Each dataset below is a block of synthetic",
             "tissue grown from a known circuit and imaged by a simulated scanner.  Reconstruct the neurons",
             "and their synapses from the images; the organiser scores submissions against the withheld truth.",
             "", "## Datasets", ""]
    for name, ds in datasets:
        m = read_json(ds / "public" / "manifest.json")
        where = f"{name}/public" if name else "public"
        lines.append(f"- `{where}/` - preset `{m.get('preset')}`: {m.get('description', '')}")
        for mod, info in sorted(m.get("modalities", {}).items()):
            lines.append(f"  - `{info['path']}`: {mod}, OME-Zarr axes {info['axes']}, shape {info['shape']}, "
                         f"voxel {info['voxel_nm']} nm (z, y, x), origin {info['origin_nm']} nm, "
                         f"channels {info['channels']}")
    lines += ["", "Each `manifest.json` describes its dataset (task, block size, scanner settings).", "",
              "## What to submit", "",
              "One submission directory per dataset" + (", named like the level (`SUB/<level>/`)." if datasets[0][0] else "."),
              "The format, as the scorer reads it:", "", "```",
              (submission_format.__doc__ or "").strip(), "```", "",
              "## The commitment", "",
              "`COMMITMENT.txt` (and `truth_sha256` in each manifest) is a SHA-256 over every withheld truth file.",
              "When the truth is published, anyone can check it was fixed before this release:", "",
              "    pretty-printer release DATASET_DIR --verify --against THIS_ARCHIVE", ""]
    return "\n".join(lines)


def release(root: Path, archive: Path) -> Path:
    """Write the public release of benchmark ``root`` to ``archive`` (``.tar.gz``, ``.tgz`` or ``.zip``).

    Returns
    -------
    Path of the archive (written to a temporary name, then renamed: never half-written).

    Raises
    ------
    ConfigError
        Unknown archive suffix, or ``archive`` inside ``root``.
    DatasetError
        ``root`` is not a dataset or track, or a truth no longer matches its commitment.
    """
    root, archive = Path(root), Path(archive)
    if not archive.name.endswith(SUFFIXES):
        raise ConfigError(f"--out {str(archive)!r}: expected a name ending in {', '.join(SUFFIXES)}")
    if root.resolve() in archive.resolve().parents:
        raise ConfigError(f"--out {str(archive)!r}: expected a path outside the benchmark directory")
    members = _members(root)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.tmp")
    try:
        data = _zip(members) if archive.name.endswith(".zip") else _tar_gz(members)
        tmp.write_bytes(data)
        os.replace(tmp, archive)
    finally:
        tmp.unlink(missing_ok=True)
    return archive


def _tar_gz(members) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _zip(members) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def archive_manifests(archive: Path) -> dict[str, dict]:
    """``{level: manifest}`` read from a release archive (level ``""`` for a lone dataset)."""
    archive = Path(archive)
    if not archive.is_file():
        raise ConfigError(f"--against {str(archive)!r}: no such archive")
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            files = {n: z.read(n) for n in z.namelist() if n.endswith("public/manifest.json")}
    else:
        with tarfile.open(archive, "r:gz") as t:
            files = {m.name: t.extractfile(m).read() for m in t.getmembers()
                     if m.name.endswith("public/manifest.json")}
    return {n[: -len("public/manifest.json")].rstrip("/"): json.loads(b) for n, b in files.items()}


def verify(root: Path, against: Path | None = None) -> list[tuple[str, str, str]]:
    """Check each dataset's ``truth/`` against its commitment.

    Parameters
    ----------
    root : Path
        A dataset or track directory *with* ``truth/``.
    against : Path, optional
        A release archive; its manifests' ``truth_sha256`` are the commitments checked (default: the
        dataset's own ``public/manifest.json``).

    Returns
    -------
    list of ``(level, committed sha256, recomputed sha256)``; equal pairs mean the truth is the one
    committed to.

    Raises
    ------
    DatasetError
        A level has no ``truth/``, or the archive has no such level.
    """
    committed = archive_manifests(against) if against is not None else None
    rows = []
    for name, ds in find_datasets(root):
        if not (ds / "truth").is_dir():
            raise DatasetError(f"dataset {str(ds)!r}: truth/ is missing; nothing to verify")
        manifest = read_json(ds / "public" / "manifest.json") if committed is None else committed.get(name)
        if manifest is None:
            raise DatasetError(f"--against {str(against)!r}: the archive has no level {name!r}")
        rows.append((name, str(manifest.get("truth_sha256")), truth_commitment(ds / "truth")))
    return rows
