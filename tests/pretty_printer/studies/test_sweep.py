"""Sweeps: points, table, plots, resuming after an interruption, and the built-in study's arms."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pretty_printer.cli.main import main
from pretty_printer.errors import ConfigError
from pretty_printer.studies.sweep import (
    Arm, SweepConfig, flatten_scores, format_value, parse_vary, plot_results, point_name, read_table,
    run_sweep, series, sweep_points, write_table,
)

# A fast variant of `tiny` for sweep tests: short training, 3 + 1 hidden cells (tiny: 4 + 2; xor
# still trains: ANN 0.99, circuit 0.985 on seed 0), 20 calibration samples (tiny: 100), no neuropil
# around the circuit (the dense tissue's determinism is tested in tests/phantoms), coarse EM
# voxels.  Every stage still runs: the sweep's claims (resuming, stage reuse, byte-identical
# regeneration) do not depend on the circuit's size; it saves ~18 s of NEURON and training.
FAST_PRESET = """
description = "tiny, made fast for sweep tests"
[task]
name = "xor"
[compile]
cell = "wang_buzsaki"
epochs = 60
n_excitatory = 3
n_inhibitory = 1
calibration.n_samples = 20
[tissue]
block_nm = [2000.0, 5000.0, 5000.0]
dense = false
[scan.em]
preset = "sbem"
voxel_nm = [80.0, 40.0, 40.0]
[output]
chunk = [32, 128, 128]
"""


def test_parse_vary_values_and_errors():
    assert parse_vary("tissue.receptor_size_correlation=0,0.5,1") == ("tissue.receptor_size_correlation", (0, 0.5, 1))
    assert parse_vary("tissue.block_nm=[1,2,3],[4,5,6]") == ("tissue.block_nm", ([1, 2, 3], [4, 5, 6]))
    assert parse_vary("scan.em.preset=sbem,fibsem")[1] == ("sbem", "fibsem")
    for bad in ("novalues", "key=", "key=1,,2", "key=1,1", "seed=-1,2"):
        with pytest.raises(ConfigError):
            parse_vary(bad)


def test_points_are_the_cartesian_product_with_safe_names():
    points = sweep_points([("a.x", (1, 2)), ("b", ("s t", [1, 2]))])
    assert points == [{"a.x": 1, "b": "s t"}, {"a.x": 1, "b": [1, 2]}, {"a.x": 2, "b": "s t"}, {"a.x": 2, "b": [1, 2]}]
    names = [point_name(p) for p in points]
    assert len(set(names)) == 4 and names[0] == "a.x=1,b=_s_t_"
    assert all("/" not in n and " " not in n for n in names)
    with pytest.raises(ConfigError, match="once"):
        sweep_points([("a", (1,)), ("a", (2,))])


def test_config_validation_names_the_option():
    with pytest.raises(ConfigError, match="--vary"):
        SweepConfig(preset="tiny", vary=())
    with pytest.raises(ConfigError, match="--modality"):
        SweepConfig(preset="tiny", vary=(("seed", (0,)),), modality="mri")
    with pytest.raises(ConfigError, match="out"):
        SweepConfig(preset="tiny", vary=(("seed", (0,)),), command="my-pipeline {dataset}")


def test_flatten_keeps_numbers_only():
    card = {"modality": "em", "function": {"accuracy": 0.5, "weight_rule": "x", "n_cells": 3, "flag": True},
            "synapses": {"f1": None}}
    assert flatten_scores(card) == {"function.accuracy": 0.5, "function.n_cells": 3.0, "synapses.f1": pytest.approx(np.nan, nan_ok=True)}


def _rows():
    rows = []
    for arm in ("a", "b"):
        for rho in (0.0, 0.5, 1.0):
            for seed in (0, 1):
                acc = rho if arm == "a" else 1.0
                rows.append({"point": f"rho={rho},seed={seed}", "arm": arm, "rho": rho, "seed": seed,
                             "function.accuracy": acc + 0.1 * seed, "synapses.f1": 1.0})
    return rows


def test_series_average_over_seeds_and_split_by_arm():
    lines = {label: (xs, mean, std, n) for label, xs, mean, std, n in series(_rows(), "rho", "function.accuracy", ["rho", "seed"])}
    xs, mean, std, n = lines["a"]
    assert xs == [0.0, 0.5, 1.0] and np.allclose(mean, [0.05, 0.55, 1.05]) and np.allclose(std, 0.05)
    assert list(n) == [2, 2, 2]
    assert np.allclose(lines["b"][1], 1.05)


def test_table_and_plots_from_rows(tmp_path):
    rows = _rows()
    csv_path, json_path = write_table(rows, tmp_path, ["rho", "seed"])
    with open(csv_path) as f:
        table = list(csv.DictReader(f))
    assert len(table) == 12 and list(table[0])[:4] == ["point", "arm", "rho", "seed"]
    assert list(table[0])[4] == "function.accuracy"  # headline scores first
    back = read_table(tmp_path)
    assert back[3]["function.accuracy"] == rows[3]["function.accuracy"]
    for r in rows:  # counts stay in the table but get no plot
        r["synapses.n_true"] = 24.0
    plots = plot_results(rows, ["rho", "seed"], tmp_path / "plots")
    assert {p.name for p in plots} == {"function.accuracy_vs_rho.png", "synapses.f1_vs_rho.png", "overview_vs_rho.png"}
    assert all(p.stat().st_size > 5000 for p in plots)


def test_plotting_rules():
    from pretty_printer.studies.sweep import is_plotted, log_scale

    assert is_plotted("function.accuracy") and is_plotted("segmentation.erl_nm")
    assert not is_plotted("synapses.n_true") and not is_plotted("synapses.threshold_nm")
    assert log_scale([5, 20, 80]) and not log_scale([0, 0.5, 1]) and not log_scale([2, 3])


def test_format_value_round_trips_through_overrides():
    from pretty_printer.dataset.toml_values import parse_value

    for v in (0, 0.5, 1e-3, True, "sbem", [1.0, 2.0, 3.0]):
        assert parse_value(format_value(v)) == v


# --------------------------------------------------------------------------- real pipeline
class _Interrupt(BaseException):
    """Stands for Ctrl-C / a killed process in the middle of a point."""


@pytest.fixture(scope="module")
def fast_preset(tmp_path_factory):
    path = tmp_path_factory.mktemp("preset") / "fast.toml"
    path.write_text(FAST_PRESET)
    return path


DOSES = ("scan.em.dose_e_per_nm2", (2.0, 30.0))


@pytest.fixture(scope="module")
def resumed(fast_preset, tmp_path_factory):
    """A two-point sweep interrupted in its second point, then resumed: run once (each point
    generates a dataset), observed by the tests below.  The points share a stage cache, as
    ``pretty-printer sweep`` does by default: the second point (another EM dose) takes the first
    one's compiled circuit, phantom and calibration and only scans again."""
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import EngineConfig

    cfg = SweepConfig(preset=str(fast_preset), vary=(DOSES,), method="truth", function=False)
    cache_dir = tmp_path_factory.mktemp("sweep-stages")
    cache = StageCache(cache_dir)
    calls = []

    def truth_then_interrupt(ds, modality, *, rng=None):
        from pretty_printer.reconstruct.truth import reconstruct_truth

        calls.append(ds.root)
        if len(calls) == 2:
            raise _Interrupt()
        return reconstruct_truth(ds, modality, rng=rng)

    arms = [Arm("", "truth", truth_then_interrupt)]
    out = tmp_path_factory.mktemp("resume") / "sweep"
    with pytest.raises(_Interrupt):
        run_sweep(cfg, out, arms=arms, progress=False, cache=cache, engine=EngineConfig(workers=1))
    first, second = (out / "points" / point_name(p) for p in sweep_points(cfg.vary))
    seen = {"first_done": (first / "done").is_file(), "second_done": (second / "done").is_file(),
            "second_dataset": (second / "dataset" / "public" / "manifest.json").is_file(),
            "stamp": (first / "score.json").stat().st_mtime_ns,
            "dataset_stamp": (second / "dataset" / "public" / "manifest.json").stat().st_mtime_ns}
    seen["cache"] = (list(cache.hits), list(cache.misses))
    result = run_sweep(cfg, out, arms=arms, progress=False, cache=cache, engine=EngineConfig(workers=1))
    return {"cfg": cfg, "arms": arms, "out": out, "first": first, "second": second, "calls": calls,
            "seen": seen, "result": result, "cache_dir": cache_dir}


def test_sweep_resumes_after_interruption(resumed, fast_preset):
    cfg, out, first, second, seen = (resumed[k] for k in ("cfg", "out", "first", "second", "seen"))
    assert seen["first_done"] and not seen["second_done"]
    assert seen["second_dataset"]  # finished stage kept
    hits, misses = seen["cache"]  # the first point built every stage, the second reused them all
    assert misses == ["compile", "growth", "morphology"] and hits == misses
    result = resumed["result"]
    assert result.reused == [first.name] and result.computed == [second.name]
    assert (first / "score.json").stat().st_mtime_ns == seen["stamp"]  # not recomputed
    assert (second / "dataset" / "public" / "manifest.json").stat().st_mtime_ns == seen["dataset_stamp"]
    assert len(resumed["calls"]) == 3  # only the interrupted point was reconstructed again
    rows = read_table(out)
    assert [r["scan.em.dose_e_per_nm2"] for r in rows] == [2.0, 30.0]
    assert all(r["segmentation.vi_split"] == 0 for r in rows)  # truth submissions
    assert (out / "plots" / "segmentation.vi_split_vs_scan.em.dose_e_per_nm2.png").stat().st_size > 0

    # a different sweep refuses to mix into the same directory
    with pytest.raises(ConfigError, match="seed"):
        run_sweep(SweepConfig(preset=str(fast_preset), vary=cfg.vary, method="truth", seed=5, function=False),
                  out, arms=resumed["arms"], progress=False)


def _public_digests(dataset):
    import hashlib

    public = dataset / "public"
    return {str(p.relative_to(public)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(public.rglob("*")) if p.is_file()}


def test_cli_sweep_with_user_command_regenerates_the_same_point_byte_identically(resumed, fast_preset, tmp_path,
                                                                                  capsys):
    """The CLI sweep with a user's command scores its submission; its dataset, generated anew for
    the first point of the sweep above (same preset, same root seed) with the CLI's default engine
    (a local dask cluster on a multi-core machine, where the sweep above ran in one process) and
    the stages that sweep cached (compile, growth, morphology: their same-seed determinism from
    scratch is tested per stage, e.g. tests/pretty_printer/cli/test_cli_compile.py and
    tests/phantoms/test_phantom_growth.py), has the same public/ files byte for byte."""
    out = tmp_path / "s"
    import sys

    cmd = f"{sys.executable} -m pretty_printer.cli.main reconstruct {{dataset}} --method truth --modality {{modality}} --out {{out}}"
    rc = main(["sweep", "--preset", str(fast_preset), "--vary", f"{DOSES[0]}={DOSES[1][0]}", "--command", cmd,
               "--no-function", "--cache-dir", str(resumed["cache_dir"]), "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    data = json.loads((out / "results.json").read_text())
    assert data["rows"][0]["arm"] == "command" and data["rows"][0]["scores"]["synapses.f1"] == 1.0
    again = out / "points" / resumed["first"].name / "dataset"
    digests = _public_digests(again)
    assert len(digests) > 10 and digests == _public_digests(resumed["first"] / "dataset")


def test_cli_sweep_errors(tmp_path, capsys):
    assert main(["sweep", "--preset", "tiny", "--vary", "tissue.no_such_key=1,2", "--out", str(tmp_path / "x")]) == 2
    assert "no_such_key" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["sweep", "--study", "nope", "--out", str(tmp_path / "y")]) == 2
    assert "receptor_predictability" in capsys.readouterr().err


# --------------------------------------------------------------------------- the study's arms
def test_study_strength_rules():
    from pretty_printer.studies.builtin import morphology_strength_nS, receptor_strength_nS

    assert np.allclose(morphology_strength_nS(np.array([12000.0, 24000.0]), 12000.0), [1.0, 2.0])
    counts = {"n_AMPA": np.array([100, 0]), "n_NMDA": np.array([0, 0]), "n_GABA_A": np.array([0, 50])}
    assert np.allclose(receptor_strength_nS(counts), [0.6, 0.6])  # 6 pS AMPA, 12 pS GABA_A


def test_study_area_law_keeps_tiny_synapses_off_the_clip():
    """The receptor study's size law must map a compiled circuit's synapse range (0.02-2 nS)
    inside the PSD-area clip range, or the correlation knob never reaches the morphology."""
    from pretty_printer.dataset import stages
    from pretty_printer.dataset.presets import load_preset
    from pretty_printer.studies.builtin import STUDIES

    study = STUDIES.get("receptor_predictability")
    cfg = stages.growth_config(load_preset(study.preset, list(study.overrides)))
    areas = cfg.psd_area_per_nS_nm2 * np.array([0.02, 2.0])
    assert cfg.psd_area_min_nm2 < areas[0] and areas[1] < cfg.psd_area_max_nm2


def test_independent_seeds_give_each_point_its_own_seed():
    from pretty_printer.studies.sweep import SweepConfig, point_overrides

    vary = (("scan.em.dose_e_per_nm2", (5.0, 15.0)),)
    shared = SweepConfig(preset="tiny", vary=vary, seed=3)
    own = SweepConfig(preset="tiny", vary=vary, seed=3, independent_seeds=True)
    points = [{"scan.em.dose_e_per_nm2": v} for v in (5.0, 15.0)]
    assert {point_overrides(shared, p)[1] for p in points} == {3}
    seeds = [point_overrides(own, p)[1] for p in points]
    assert len(set(seeds)) == 2 and 3 not in seeds
    assert seeds == [point_overrides(own, p)[1] for p in points]  # reproducible
    assert [point_overrides(own, p)[0] for p in points] == [point_overrides(shared, p)[0] for p in points]


def test_linked_keys_vary_together_in_the_molecular_study():
    from pretty_printer.studies.builtin import MOLECULAR_KEYS, STUDIES
    from pretty_printer.studies.sweep import SweepConfig, point_overrides, point_preset

    cfg = SweepConfig(preset="tiny", vary=((MOLECULAR_KEYS, (0.0, 1.0)),))
    overrides, _ = point_overrides(cfg, {MOLECULAR_KEYS: 1.0})
    assert overrides == ["tissue.receptor_size_correlation=1.0",
                         "tissue.excitability_morphology_correlation=1.0"]
    preset = point_preset(cfg, {MOLECULAR_KEYS: 0.0})
    assert preset.tissue["receptor_size_correlation"] == 0.0
    assert preset.tissue["excitability_morphology_correlation"] == 0.0
    assert {a.name for a in STUDIES.get("molecular_predictability").arms} == {"morphology", "stains",
                                                                              "no_excitability"}


def test_quick_study_runs_both_ends_on_one_seed_without_neuropil(tmp_path, capsys):
    from pretty_printer.dataset.presets import load_preset
    from pretty_printer.studies.builtin import QUICK_OVERRIDES, STUDIES

    study = STUDIES.get("receptor_predictability")
    assert study.quick() == ((0.0, 1.0), (0,))
    assert load_preset(study.preset, list(study.overrides) + list(QUICK_OVERRIDES)).tissue["dense"] is False
    # --quick belongs to --study: a --vary sweep refuses it in one line, before any work
    assert main(["sweep", "--preset", "tiny", "--vary", "seed=0", "--quick", "--out", str(tmp_path / "q")]) == 2
    assert "--quick" in capsys.readouterr().err and not (tmp_path / "q").exists()
