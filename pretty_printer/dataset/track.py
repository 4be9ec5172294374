"""A track: difficulty levels of one benchmark, each a dataset with its own tissue.

Levels are dataset presets (e.g. ``em-easy``, ``em-medium``, ``em-hard``).  Each level is generated
from its own root seed, drawn from the track seed's tree (``stage_int(seed, "track", level)``), so
the levels share no tissue: a hard level cannot be aligned onto an easy one to read off its answer.
``shared_tissue=True`` gives every level the track seed itself (same task data, circuit and tissue;
only the preset differs), which is what a controlled study wants and a benchmark does not.

Layout::

    DIR/track.json          {"format", "levels": [{"name", "preset", "overrides"}], "shared_tissue"}
    DIR/<level>/public/     the level's dataset, as ``generate`` writes it
    DIR/<level>/truth/      (withheld; its seed.json records the level's seed)

Building is resumable: a level whose ``public/manifest.json`` exists is not generated again.
"""

from __future__ import annotations

from pathlib import Path

from pretty_printer.dataset.layout import read_json, write_json
from pretty_printer.dataset.release import TRACK_FILE
from pretty_printer.errors import ConfigError

TRACK_FORMAT = "neural-pretty-printer/track@1"


def level_seed(seed: int, level: str, *, shared_tissue: bool = False) -> int:
    """The root seed of ``level`` in a track of root ``seed`` (independent per level unless shared)."""
    from pretty_printer.seeds import stage_int

    return int(seed) if shared_tissue else int(stage_int(seed, "track", level))


def build_track(out: Path, levels: list[str], seed: int, *, overrides: tuple[str, ...] = (),
                shared_tissue: bool = False, progress: bool = True, on_level=None) -> list[Path]:
    """Generate every level of a track into ``out`` (resuming finished levels).

    Parameters
    ----------
    out : Path
        Track directory (created; an existing one must hold the same levels).
    levels : list of str
        Dataset preset names, one per level, in order of difficulty.
    seed : int
        The track's root seed (non-negative).
    overrides : tuple of str
        ``KEY=VALUE`` overrides applied to every level.
    shared_tissue : bool
        Give every level the same root seed (default False: independent tissue per level).
    on_level : callable, optional
        ``on_level(name, seed, reused)`` is called before each level (e.g. to print progress).

    Returns
    -------
    list of Path, the level dataset directories.

    Raises
    ------
    ConfigError
        No or repeated levels, a negative seed, or ``out`` holding another track.
    """
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    if not levels or len(set(levels)) != len(levels):
        raise ConfigError(f"--level: expected distinct preset names, got {list(levels)}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed: expected a non-negative integer, got {seed!r}")
    presets = [load_preset(name, overrides) for name in levels]  # every level valid before any work
    out = Path(out)
    spec = {"format": TRACK_FORMAT, "shared_tissue": bool(shared_tissue),
            "levels": [{"name": p.name, "preset": p.name, "overrides": list(overrides)} for p in presets]}
    if (out / TRACK_FILE).is_file() and read_json(out / TRACK_FILE) != spec:
        raise ConfigError(f"--out {str(out)!r}: holds another track (different levels or options); "
                          "choose a new directory")
    write_json(out / TRACK_FILE, spec)
    dirs = []
    for preset in presets:
        d = out / preset.name
        s = level_seed(seed, preset.name, shared_tissue=shared_tissue)
        done = (d / "public" / "manifest.json").is_file()
        if on_level is not None:
            on_level(preset.name, s, done)
        if not done:
            generate(preset, d, s, force=True, progress=progress)
        dirs.append(d)
    return dirs
