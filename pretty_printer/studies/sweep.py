"""Parameter sweeps: vary preset keys, and for each point generate, reconstruct and score.

A sweep is the cartesian product of ``--vary KEY=V1,V2,...`` values.  Each point lives in its
own directory::

    DIR/sweep.json                         what was swept (preset, seed, modality, arms, keys)
    DIR/points/<key1=v1,key2=v2>/point.json     the point's overrides and seed
    DIR/points/<...>/dataset/              the generated dataset (written atomically)
    DIR/points/<...>/submission[-ARM]/     each arm's submission (written atomically)
    DIR/points/<...>/score[-ARM].json      each arm's scorecard
    DIR/points/<...>/done                  written last, by atomic rename
    DIR/results.csv, DIR/results.json      one row per (point, arm), rebuilt every run
    DIR/plots/<score>_vs_<key>.png         every score against every varied key
    DIR/plots/overview_vs_<key>.png        the headline scores on one page

Resuming is the same command again: points whose ``done`` marker exists are not recomputed, and
inside an unfinished point every stage whose output exists (datasets and submissions are only
ever renamed into place complete) is reused.  All points share one root seed, so only the varied
key changes between them; the pseudo-key ``seed`` (``--vary seed=0,1,2``) replicates points over
seeds instead, and plots then show the mean and spread over seeds.

An *arm* is one way of turning a dataset into a submission: a registered reconstruction method
(``baseline``, ``truth``), a user's command (``--command "my-pipeline {dataset} {modality} {out}"``)
or, for built-in studies (:mod:`pretty_printer.studies.builtin`), a function
``(dataset, modality, *, rng) -> Submission``.
"""


from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pretty_printer.errors import ConfigError, SubmissionError
# the pieces a sweep is made of, importable from here as before
from pretty_printer.studies.sweep_plots import draw_score, is_plotted, log_scale, plot_results, series  # noqa: F401
from pretty_printer.studies.sweep_table import (  # noqa: F401
    HEADLINE_SCORES, SWEEP_FORMAT, atomic_write_json, flatten_scores, read_table, write_table)
from pretty_printer.studies.sweep_values import (  # noqa: F401
    SEED_KEY, format_value, parse_vary, point_name, sweep_points)

DONE = "done"

ArmFunction = Callable[..., Any]  # (Dataset, modality, *, rng) -> Submission


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class SweepConfig:
    """What a sweep runs.

    Parameters
    ----------
    preset : str
        Dataset preset name (or path to a .toml file).
    vary : tuple of (key, values)
        Dotted preset keys and the values each takes; ``seed`` replicates over root seeds.
    modality : str
        The modality reconstructed and scored.
    method : str
        Registered reconstruction method used when ``command`` is None and no arms are given.
    command : str or None
        A user's reconstruction command with ``{dataset}``, ``{modality}`` and ``{out}``
        (and optionally ``{seed}``) placeholders; it must write a submission directory at ``{out}``.
    seed : int
        Root seed shared by every point (unless ``seed`` is varied).
    overrides : tuple of str
        Fixed ``KEY=VALUE`` overrides applied to every point before the varied ones.
    all_modalities : bool
        Scan every modality of the preset; by default only ``modality`` is scanned, since it is
        the only one reconstructed.
    function : bool
        Compute the (slower) function scores.
    independent_seeds : bool
        Give each point its own root seed, drawn from ``seed``'s tree by the point's varied values
        (difficulty levels of a benchmark must not share tissue); by default every point shares
        ``seed``, so only the varied key changes (what a controlled study wants).
    """

    preset: str
    vary: tuple[tuple[str, tuple[Any, ...]], ...]
    modality: str = "em"
    method: str = "baseline"
    command: str | None = None
    seed: int = 0
    overrides: tuple[str, ...] = ()
    all_modalities: bool = False
    function: bool = True
    independent_seeds: bool = False

    def __post_init__(self) -> None:
        if not self.vary:
            raise ConfigError("--vary: expected at least one KEY=V1,V2,..., got none")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"--seed: expected a non-negative integer, got {self.seed!r}")
        from pretty_printer.dataset.presets import MODALITIES

        if self.modality not in MODALITIES:
            raise ConfigError(f"--modality: expected one of {', '.join(MODALITIES)}, got {self.modality!r}")
        if self.command is not None and "{out}" not in self.command:
            raise ConfigError(f"--command: expected a {{out}} placeholder for the submission directory, got {self.command!r}")
        object.__setattr__(self, "vary", tuple((k, tuple(v)) for k, v in self.vary))
        object.__setattr__(self, "overrides", tuple(self.overrides))

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.vary]

    def to_dict(self) -> dict:
        return {
            "preset": self.preset, "modality": self.modality, "method": self.method,
            "command": self.command, "seed": self.seed, "overrides": list(self.overrides),
            "all_modalities": self.all_modalities, "function": self.function,
            "independent_seeds": self.independent_seeds,
            "vary": {k: [format_value(v) for v in vals] for k, vals in self.vary},
        }


@dataclass(frozen=True)
class Arm:
    """One way to turn a point's dataset into a submission; ``name`` '' is the default arm."""

    name: str
    label: str
    reconstruct: ArmFunction | None = None  # None: use the config's method or command

    def suffix(self) -> str:
        return f"-{self.name}" if self.name else ""


@dataclass
class SweepResult:
    out: Path
    rows: list[dict] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)  # points computed in this run
    reused: list[str] = field(default_factory=list)  # points found finished
    plots: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------- one point
def point_overrides(cfg: SweepConfig, point: Mapping[str, Any]) -> tuple[list[str], int]:
    """The preset overrides and the root seed of one point (a key ``a+b`` sets both keys)."""
    overrides = list(cfg.overrides)
    seed = cfg.seed
    for key, value in point.items():
        if key == SEED_KEY:
            seed = int(value)
        else:  # "a+b" varies linked keys together: both take the value
            overrides.extend(f"{k}={format_value(value)}" for k in key.split("+"))
    if cfg.independent_seeds:
        from pretty_printer.seeds import stage_int

        seed = int(stage_int(seed, "point", *overrides[len(cfg.overrides):]))
    return overrides, seed


def point_preset(cfg: SweepConfig, point: Mapping[str, Any]):
    """The validated preset of one point (only the swept modality scanned unless asked)."""
    from pretty_printer.dataset.presets import load_preset

    overrides, _ = point_overrides(cfg, point)
    preset = load_preset(cfg.preset, overrides)
    if cfg.modality not in preset.scan:
        raise ConfigError(f"--modality {cfg.modality!r}: preset {cfg.preset!r} scans only {', '.join(sorted(preset.scan))}")
    if not cfg.all_modalities:
        preset = replace(preset, scan={cfg.modality: preset.scan[cfg.modality]})
    return preset


def _clean_partial(point_dir: Path) -> None:
    """Remove temporary directories an interrupted run left (never a finished output)."""
    for p in point_dir.glob(".*.tmp-*"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def run_command(command: str, dataset_dir: Path, modality: str, out: Path, seed: int) -> None:
    """Run a user's reconstruction command; it must write a submission directory at ``out``."""
    values = {"dataset": str(dataset_dir), "modality": modality, "out": str(out), "seed": str(seed)}
    try:
        argv = [tok.format(**values) for tok in shlex.split(command)]
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"--command {command!r}: bad placeholder {e}; expected {{dataset}}, {{modality}}, {{out}}, {{seed}}") from e
    try:
        proc = subprocess.run(argv, capture_output=True, text=True)
    except OSError as e:
        raise ConfigError(f"--command: could not run {argv[0]!r}: {e}") from e
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise SubmissionError(f"--command exited with code {proc.returncode}: {tail}")
    if not (out / "submission.json").is_file():
        raise SubmissionError(f"--command: expected a submission directory at {str(out)!r} (with submission.json), found none")


def reconstruct_arm(cfg: SweepConfig, arm: Arm, dataset_dir: Path, sub_dir: Path, seed: int) -> None:
    """Write the arm's submission for a point's dataset, atomically."""
    from pretty_printer.dataset.layout import Dataset, atomic_directory
    from pretty_printer.seeds import stage_rng
    from pretty_printer.submission.format import write_submission

    if arm.reconstruct is None and cfg.command is not None:
        with atomic_directory(sub_dir, force=True) as tmp:
            shutil.rmtree(tmp)  # the user's command creates the directory itself
            run_command(cfg.command, dataset_dir, cfg.modality, tmp, seed)
        return
    ds = Dataset(dataset_dir)
    if arm.reconstruct is None:
        from pretty_printer.reconstruct.methods import get_method

        method = get_method(cfg.method, cfg.modality)
    else:
        method = arm.reconstruct
    sub = method(ds, cfg.modality, rng=stage_rng(seed, "baseline", cfg.modality))
    write_submission(sub_dir, sub, voxel_nm=ds.modality(cfg.modality)["voxel_nm"], force=True)


@contextlib.contextmanager
def _stage(what: str, enabled: bool) -> Iterator[None]:
    """One ``sweep: what ... done (t s)`` line pair on stderr (reconstructing and scoring take
    seconds to minutes, and a silent terminal looks hung)."""
    t0 = time.perf_counter()
    if enabled:
        sys.stderr.write(f"sweep: {what} ...\n")
        sys.stderr.flush()
    yield
    if enabled:
        sys.stderr.write(f"sweep: {what}: done ({time.perf_counter() - t0:.1f} s)\n")
        sys.stderr.flush()


def run_point(cfg: SweepConfig, arms: Sequence[Arm], point: Mapping[str, Any], point_dir: Path,
              *, progress: bool = True, engine=None, cache=None) -> dict[str, dict]:
    """Generate, reconstruct (each arm) and score one point, reusing whatever already exists.

    ``engine`` (:class:`~pretty_printer.dataset.engine.EngineConfig`) and ``cache``
    (:class:`~pretty_printer.dataset.cache.StageCache`) are passed to ``generate``: with a cache,
    a point that changes only scanner keys recomputes only its scans, reconstruction and scores.
    Returns the scorecards by arm name.  The ``done`` marker is written last.
    """
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.dataset.generate import generate
    from pretty_printer.scoring.score import score
    from pretty_printer.sim.parallel import simulation_workers

    point_dir.mkdir(parents=True, exist_ok=True)
    _clean_partial(point_dir)
    overrides, seed = point_overrides(cfg, point)
    atomic_write_json(point_dir / "point.json", {
        "point": {k: format_value(v) for k, v in point.items()}, "overrides": overrides, "seed": seed})
    dataset_dir = point_dir / "dataset"
    if not (dataset_dir / "public" / "manifest.json").is_file():
        generate(point_preset(cfg, point), dataset_dir, seed, force=True, progress=progress, engine=engine,
                 cache=cache)
    cards = {}
    for arm in arms:
        sub_dir = point_dir / f"submission{arm.suffix()}"
        score_path = point_dir / f"score{arm.suffix()}.json"
        label = arm.name or arm.label
        if not (sub_dir / "submission.json").is_file():
            with _stage(f"reconstruct with {label}", progress):
                reconstruct_arm(cfg, arm, dataset_dir, sub_dir, seed)
            score_path.unlink(missing_ok=True)  # a score of an older submission is stale
        if score_path.is_file():
            cards[arm.name] = json.loads(score_path.read_text())
        else:
            with _stage(f"score {label}" + (" (simulating the rebuilt circuit)" if cfg.function else ""), progress), \
                    simulation_workers((engine or EngineConfig()).n_local):
                cards[arm.name] = score(dataset_dir, sub_dir, function=cfg.function)
            atomic_write_json(score_path, cards[arm.name])
    atomic_write_json(point_dir / DONE, {"arms": [a.name for a in arms]})
    return cards


# --------------------------------------------------------------------------- the sweep
def collect_rows(out: Path, cfg: SweepConfig, arms: Sequence[Arm], points: Iterable[Mapping[str, Any]]) -> list[dict]:
    """One row per finished (point, arm): the point's values, the arm, and every numeric score."""
    rows = []
    for point in points:
        point_dir = Path(out) / "points" / point_name(point)
        if not (point_dir / DONE).is_file():
            continue
        for arm in arms:
            card = json.loads((point_dir / f"score{arm.suffix()}.json").read_text())
            row = {"point": point_name(point), "arm": arm.name or arm.label}
            row.update(dict(point))
            row.update(flatten_scores(card))
            rows.append(row)
    return rows


def default_arms(cfg: SweepConfig) -> list[Arm]:
    label = "command" if cfg.command else cfg.method
    return [Arm(name="", label=label)]


def _check_sweep_file(out: Path, cfg: SweepConfig, arms: Sequence[Arm]) -> None:
    """Refuse to resume into a directory made by a different sweep (its points would mix)."""
    path = out / "sweep.json"
    record = {"format": SWEEP_FORMAT, "config": cfg.to_dict(), "arms": [a.name for a in arms]}
    if path.is_file():
        old = json.loads(path.read_text())
        fixed = ("preset", "modality", "method", "command", "seed", "overrides", "all_modalities", "function")
        for key in fixed:
            if old.get("config", {}).get(key) != record["config"][key]:
                raise ConfigError(
                    f"--out {str(out)!r}: holds a sweep with {key}={old['config'].get(key)!r}, this one has "
                    f"{key}={record['config'][key]!r}; use a new directory (or --force to start over)")
        if old.get("config", {}).get("independent_seeds", False) != cfg.independent_seeds:
            raise ConfigError(f"--out {str(out)!r}: holds a sweep with other --independent-seeds; use a new directory")
        if old.get("arms") != record["arms"]:
            raise ConfigError(f"--out {str(out)!r}: holds a sweep with arms {old.get('arms')}, this one has {record['arms']}")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, record)


def run_sweep(cfg: SweepConfig, out: Path, *, arms: Sequence[Arm] | None = None, progress: bool = True,
              force: bool = False, plots: bool = True, engine=None, cache=None) -> SweepResult:
    """Run (or resume) a sweep into ``out`` and rebuild its table and plots.

    Parameters
    ----------
    cfg : SweepConfig
    out : Path
        The sweep directory; an existing one from the same sweep is resumed.
    arms : sequence of Arm, optional
        Reconstructions scored at each point; default: the config's method or command.
    progress : bool
        Progress bar over points (and each point's stages) on stderr.
    force : bool
        Delete ``out`` first and recompute everything.
    plots : bool
        Draw ``plots/<score>_vs_<key>.png``.
    engine, cache : EngineConfig, StageCache, optional
        Where chunk tasks run and where stages are reused from (see :func:`run_point`).
    """
    from tqdm import tqdm

    out = Path(out)
    arms = list(arms) if arms is not None else default_arms(cfg)
    if force and out.exists():
        shutil.rmtree(out)
    points = sweep_points(cfg.vary)
    for point in points:  # a bad key or value fails here, before anything is computed
        point_preset(cfg, point)
    _check_sweep_file(out, cfg, arms)

    result = SweepResult(out=out)
    # the bar also shows when stderr is a log file: a sweep is long and usually run unattended
    bar = tqdm(points, desc="sweep", unit="point", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    for point in bar:
        name = point_name(point)
        bar.set_postfix_str(name[-60:])
        point_dir = out / "points" / name
        if (point_dir / DONE).is_file():
            result.reused.append(name)
            continue
        if progress:
            bar.write(f"sweep: point {name}", file=sys.stderr)
        run_point(cfg, arms, point, point_dir, progress=progress, engine=engine, cache=cache)
        result.computed.append(name)
    bar.close()
    result.rows = collect_rows(out, cfg, arms, points)
    write_table(result.rows, out, cfg.keys)
    if plots:
        result.plots = plot_results(result.rows, cfg.keys, out / "plots")
    return result


