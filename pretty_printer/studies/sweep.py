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
import csv
import itertools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from pretty_printer.errors import ConfigError, SubmissionError

SWEEP_FORMAT = "neural-pretty-printer/sweep@1"
SEED_KEY = "seed"
DONE = "done"
# Scores drawn first in plots and tables; every other numeric score follows, sorted.
HEADLINE_SCORES = (
    "function.accuracy", "function.output_correlation", "connectome.edge_f1",
    "connectome.weight_spearman", "synapses.f1", "segmentation.vi_split",
    "segmentation.vi_merge", "segmentation.arand", "segmentation.erl_nm",
)

# Table columns that are counts or settings rather than scores: kept in the table, not plotted.
NOT_PLOTTED = frozenset({"threshold_nm", "total_length_nm", "input_ports_found", "output_ports_found"})

ArmFunction = Callable[..., Any]  # (Dataset, modality, *, rng) -> Submission


# --------------------------------------------------------------------------- parsing
def _split_values(text: str) -> list[str]:
    """Split ``a,b,[1,2],c`` on the commas outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def parse_vary(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse ``KEY=V1,V2,...`` into the key and its values (each parsed as TOML).

    >>> parse_vary("tissue.receptor_size_correlation=0,0.5,1")
    ('tissue.receptor_size_correlation', (0, 0.5, 1))
    """
    from pretty_printer.dataset.presets import _parse_value

    if "=" not in text:
        raise ConfigError(f"--vary {text!r}: expected KEY=V1,V2,..., e.g. tissue.receptor_size_correlation=0,0.5,1")
    key, values = text.split("=", 1)
    key = key.strip()
    raw = [v for v in _split_values(values)]
    if not key or not values.strip() or any(v == "" for v in raw):
        raise ConfigError(f"--vary {text!r}: expected KEY=V1,V2,... with non-empty values")
    parsed = tuple(_parse_value(v) for v in raw)
    if key == SEED_KEY and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in parsed):
        raise ConfigError(f"--vary seed: expected non-negative integers, got {values!r}")
    if len(set(map(format_value, parsed))) != len(parsed):
        raise ConfigError(f"--vary {key}: values repeat, got {values!r}")
    return key, parsed


def format_value(value: Any) -> str:
    """A value as it appears in point names, tables and overrides (TOML syntax)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


def point_name(point: Mapping[str, Any]) -> str:
    """The directory name of a point: ``key1=v1,key2=v2`` with unsafe characters as ``_``."""
    name = ",".join(f"{k}={format_value(v)}" for k, v in point.items())
    return _UNSAFE.sub("_", name) or "default"


def sweep_points(vary: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """The cartesian product of the varied values, first key slowest."""
    keys = [k for k, _ in vary]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"--vary: each key may be varied once, got {keys}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*[tuple(v) for _, v in vary])]


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


def _atomic_write_json(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


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
    from pretty_printer.dataset.generate import generate
    from pretty_printer.scoring.score import score

    point_dir.mkdir(parents=True, exist_ok=True)
    _clean_partial(point_dir)
    overrides, seed = point_overrides(cfg, point)
    _atomic_write_json(point_dir / "point.json", {
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
            with _stage(f"score {label}" + (" (simulating the rebuilt circuit)" if cfg.function else ""), progress):
                cards[arm.name] = score(dataset_dir, sub_dir, function=cfg.function)
            _atomic_write_json(score_path, cards[arm.name])
    _atomic_write_json(point_dir / DONE, {"arms": [a.name for a in arms]})
    return cards


# --------------------------------------------------------------------------- the sweep
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
    _atomic_write_json(path, record)


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


# --------------------------------------------------------------------------- table
def flatten_scores(card: Mapping[str, Any]) -> dict[str, float]:
    """Numeric scores of a scorecard as ``section.key`` -> float (None becomes NaN)."""
    flat: dict[str, float] = {}
    for section, values in card.items():
        if not isinstance(values, Mapping):
            continue
        for k, v in values.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                flat[f"{section}.{k}"] = float(v)
            elif v is None:
                flat[f"{section}.{k}"] = math.nan
    return flat


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


def score_columns(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """Score columns: headline scores first, then the rest sorted."""
    present = {c for r in rows for c in r} - set(keys) - {"point", "arm"}
    head = [c for c in HEADLINE_SCORES if c in present]
    return head + sorted(present - set(head))


def write_table(rows: Sequence[Mapping[str, Any]], out: Path, keys: Sequence[str]) -> tuple[Path, Path]:
    """Write ``results.csv`` and ``results.json`` (atomically) from the rows.

    Parameters
    ----------
    rows : sequence of dict
        From :func:`collect_rows`.
    out : Path
        The sweep directory.
    keys : sequence of str
        The varied keys (table columns after ``point`` and ``arm``).
    """
    out = Path(out)
    keys = list(keys)
    scores = score_columns(rows, keys)
    header = ["point", "arm", *keys, *scores]
    fd, tmp = tempfile.mkstemp(prefix=".results.csv.", dir=out)
    with os.fdopen(fd, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in header])
    os.replace(tmp, out / "results.csv")
    records = [{"point": r["point"], "arm": r["arm"], "values": {k: r[k] for k in keys},
                "scores": {c: (None if _isnan(r.get(c)) else r.get(c)) for c in scores}} for r in rows]
    _atomic_write_json(out / "results.json", {"format": SWEEP_FORMAT, "keys": keys, "scores": scores, "rows": records})
    return out / "results.csv", out / "results.json"


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _cell(v) -> str:
    if v is None or _isnan(v):
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple, bool)):
        return format_value(v)
    return str(v)


def read_table(out: Path) -> list[dict]:
    """The rows of ``results.json`` as flat dicts (values and scores together)."""
    data = json.loads((Path(out) / "results.json").read_text())
    # values come back as JSON: lists stay lists, which format_value treats like tuples
    return [{"point": r["point"], "arm": r["arm"], **r["values"],
             **{k: (math.nan if v is None else v) for k, v in r["scores"].items()}} for r in data["rows"]]


# --------------------------------------------------------------------------- plots
def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def series(rows: Sequence[Mapping[str, Any]], x_key: str, score: str, keys: Sequence[str]):
    """Group rows into lines for ``score`` against ``x_key``.

    Rows are grouped by arm and by the other varied keys except ``seed``, which is averaged over:
    each line is ``(label, xs, means, stds, n)`` with ``xs`` in first-seen order (sorted if numeric).
    """
    others = [k for k in keys if k not in (x_key, SEED_KEY)]
    groups: dict[tuple, dict] = {}
    for r in rows:
        v = r.get(score)
        if v is None or _isnan(v):
            continue
        gkey = (r["arm"],) + tuple(format_value(r[k]) for k in others)
        groups.setdefault(gkey, {}).setdefault(format_value(r[x_key]), (r[x_key], []))[1].append(float(v))
    arms = {g[0] for g in groups}
    lines = []
    for gkey, pts in groups.items():
        xs = [x for x, _ in pts.values()]
        ys = [ys for _, ys in pts.values()]
        if _numeric(xs):
            order = np.argsort(np.asarray(xs, float), kind="stable")
            xs, ys = [xs[i] for i in order], [ys[i] for i in order]
        parts = ([gkey[0]] if len(arms) > 1 else []) + [f"{k}={s}" for k, s in zip(others, gkey[1:])]
        lines.append((", ".join(parts), xs, np.array([np.mean(y) for y in ys]),
                      np.array([np.std(y) for y in ys]), np.array([len(y) for y in ys])))
    return lines


def log_scale(xs: Sequence[float]) -> bool:
    """A log axis for positive values spanning a factor of 10 or more (doses, voxel sizes)."""
    xs = np.asarray([float(x) for x in xs])
    return bool(xs.size and np.all(xs > 0) and xs.max() / xs.min() >= 10.0)


def _pyplot():
    from pretty_printer.viz import figures

    return figures


def draw_score(ax, rows, x_key: str, score: str, keys: Sequence[str], *, title: str | None = None,
               fontsize: int = 10) -> bool:
    """Draw one score against one key into ``ax`` (one line per arm and other key, mean +- sd over
    seeds); False if no finished point has that score."""
    lines = series(rows, x_key, score, keys)
    if not lines:
        return False
    all_x = [x for _, xs, *_ in lines for x in xs]
    numeric = _numeric(all_x)
    categories = list(dict.fromkeys(format_value(x) for x in all_x))
    for label, xs, mean, std, n in lines:
        pos = [float(x) for x in xs] if numeric else [categories.index(format_value(x)) for x in xs]
        ax.errorbar(pos, mean, yerr=std if np.any(n > 1) else None, marker="o", capsize=3, label=label or None)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories, rotation=20)
    elif log_scale(all_x):
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        # tick the swept values themselves: a decade axis labels few of them, minor labels collide
        ticks = sorted({float(x) for x in all_x})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(x_key, fontsize=fontsize - 1)
    ax.set_ylabel(score, fontsize=fontsize - 1)
    ax.set_title(title or f"{score} vs {x_key}", fontsize=fontsize)
    ax.grid(alpha=0.3)
    if any(label for label, *_ in lines):
        ax.legend(fontsize=fontsize - 2)
    return True


def plot_score(rows, x_key: str, score: str, keys: Sequence[str], path: Path, *, title: str | None = None) -> Path | None:
    """Draw one score against one key into a PNG; ``None`` if no finished point has that score."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.6), dpi=100)
    if not draw_score(ax, rows, x_key, score, keys, title=title):
        plt.close(fig)
        return None
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_overview(rows, x_key: str, keys: Sequence[str], path: Path) -> Path | None:
    """The headline scores present (up to nine) against one key, on one page."""
    scores = [c for c in HEADLINE_SCORES if any(not _isnan(r.get(c, math.nan)) for r in rows)]
    if not scores:
        return None
    plt = _pyplot()
    ncol = min(3, len(scores))
    nrow = math.ceil(len(scores) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), dpi=90, squeeze=False)
    for ax, score in zip(axes.ravel(), scores):
        draw_score(ax, rows, x_key, score, keys, title=score, fontsize=9)
        ax.set_ylabel("")
    for ax in axes.ravel()[len(scores):]:
        ax.axis("off")
    fig.suptitle(f"headline scores vs {x_key}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def is_plotted(column: str) -> bool:
    """Whether a table column is a score worth a plot (counts such as ``n_cells`` and settings
    such as ``threshold_nm`` stay in the table only)."""
    name = column.rsplit(".", 1)[-1]
    return not name.startswith("n_") and name not in NOT_PLOTTED


def plot_results(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], plot_dir: Path) -> list[Path]:
    """Plot every score against every varied key into ``plot_dir`` (old plots are replaced):
    ``<score>_vs_<key>.png`` each, and ``overview_vs_<key>.png`` with the headline scores."""
    plot_dir = Path(plot_dir)
    if plot_dir.exists():
        for p in plot_dir.glob("*_vs_*.png"):
            p.unlink()
    made = []
    x_keys = [k for k in keys if k != SEED_KEY] or list(keys)
    for key in x_keys:
        p = plot_overview(rows, key, keys, plot_dir / _UNSAFE.sub("_", f"overview_vs_{key}.png"))
        if p is not None:
            made.append(p)
        for score in filter(is_plotted, score_columns(rows, keys)):
            safe = _UNSAFE.sub("_", f"{score}_vs_{key}")
            p = plot_score(rows, key, score, keys, plot_dir / f"{safe}.png")
            if p is not None:
                made.append(p)
    return made
