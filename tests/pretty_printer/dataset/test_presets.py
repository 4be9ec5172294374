"""Typed presets: every key is checked on load with one line, scanner presets bring their own values,
``presets --show`` resolves fully (and is loadable again), ``presets --keys`` lists every key."""

import subprocess
import sys
from dataclasses import fields

import pytest

import phantoms
import scanners
from pretty_printer.cli.main import main
from pretty_printer.dataset import schema, stages
from pretty_printer.dataset.presets import _DEFAULT_CHUNK, load_preset, preset_names
from pretty_printer.dataset.validation import all_keys, resolved
from pretty_printer.errors import ConfigError


def _run(capsys, argv):
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    return rc, capsys.readouterr()


@pytest.mark.parametrize("override,needle", [
    ("compile.epochs=many", "[compile] epochs: expected an integer, got 'many'"),
    ("compile.seed=3", "[compile] seed: not a preset key"),
    ("compile.epochs=0", "[compile] epochs: expected >= 1, got 0"),
    ("compile.cell=squid", "[compile] cell: expected one of"),
    ("compile.calibration.rounds=-1", "[compile] calibration.rounds"),
    ("compile.calibration.colour=1", "[compile] calibration: unknown key 'colour'"),
    ("tissue.ecs_fractoin=0.2", "unknown key 'ecs_fractoin' (did you mean 'ecs_fraction'?)"),
    ("tissue.block_nm=[1,2]", "[tissue] block_nm: expected a list of 3 floats"),
    ("tissue.barcode_k=four", "[tissue] barcode_k: expected an integer"),
    ("output.chunk=[32,128]", "[output] chunk: expected a list of 3 ints"),
    ("output.chunk=[0,128,128]", "[output] chunk: expected 3 positive integers"),
    ("scan.em.noise=1", "[scan.em] noise: expected true or false"),
    ("scan.em.preset=exm_lightsheet", "[scan.em]: expected a em scanner"),
    ("task.name=sudoku", "[task] name: unknown task 'sudoku'"),
])
def test_bad_value_is_one_line_exit_2_nothing_written(override, needle, tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--seed", "0",
                            "--set", override])
    assert rc == 2, out.err
    assert needle in out.err and len(out.err.strip().splitlines()) == 1, out.err
    assert not (tmp_path / "d").exists()


def test_choosing_a_scanner_preset_brings_its_own_values():
    sstem = scanners.load_preset("sstem")
    preset = load_preset("tiny", ["scan.em.preset=sstem"])
    assert preset.scan["em"] == {"preset": "sstem"}  # tiny's 40 x 16 x 16 adjustment of sbem is gone
    assert stages.make_scanner(preset, "em").config.voxel_nm == tuple(sstem["voxel_nm"])
    # a key set explicitly stays, in either order
    for order in (["scan.em.preset=sstem", "scan.em.voxel_nm=[40,8,8]"],
                  ["scan.em.voxel_nm=[40,8,8]", "scan.em.preset=sstem"]):
        assert stages.make_scanner(load_preset("tiny", order), "em").config.voxel_nm == (40.0, 8.0, 8.0)
    # naming the same scanner preset again keeps the file's adjustments
    assert load_preset("tiny", ["scan.em.preset=sbem"]).scan["em"]["voxel_nm"] == [40.0, 16.0, 16.0]
    assert resolved(preset)["scan.em"]["voxel_nm"] == (sstem["voxel_nm"], "sstem")


def test_exm_barcodes_follow_the_tissue():
    preset = load_preset("tiny", ["tissue.barcode_proteins=10"])
    assert stages.make_scanner(preset, "exm").config.n_barcode_proteins == 10
    assert resolved(preset)["scan.exm"]["n_barcode_proteins"] == (10, "tissue.barcode_proteins")


def test_show_is_fully_resolved_and_loads_again(tmp_path, capsys):
    rc, out = _run(capsys, ["presets", "--show", "tiny", "--set", "scan.em.preset=sstem"])
    assert rc == 0
    assert "dose_e_per_nm2 = 200.0" in out.out  # the sstem preset's own value, not a bare table
    assert "soma_radius_nm = 450.0" in out.out  # a GrowthConfig default
    path = tmp_path / "resolved.toml"
    path.write_text(out.out)
    again = load_preset(str(path))
    values = lambda p: {t: {k: v for k, (v, _s) in items.items()} for t, items in resolved(p).items()}  # noqa: E731
    assert values(again) == values(load_preset("tiny", ["scan.em.preset=sstem"]))


def test_keys_list_every_field_with_unit_default_and_bounds(capsys):
    rows = {r.key: r for r in all_keys()}
    for f in fields(phantoms.GrowthConfig):
        assert f"tissue.{f.name}" in rows
    dose = rows["scan.em.dose_e_per_nm2"]
    assert (dose.type, dose.unit, dose.bounds) == ("float", "e/nm^2", "> 0")
    assert rows["tissue.receptor_size_correlation"].bounds == "[0, 1]"
    assert rows["tissue.cleft_nm"].bounds.endswith("30]")
    assert rows["compile.epochs"].bounds == ">= 1"
    assert "compile.seed" not in rows
    assert rows["output.chunk"].default == _DEFAULT_CHUNK == schema.OutputConfig().chunk
    rc, out = _run(capsys, ["presets", "--keys"])
    assert rc == 0 and "tissue.block_nm" in out.out and "scan.xray.n_angles" in out.out


def test_probe_bounds_known_answers():
    assert schema.probe_bounds(lambda v: 0 < v <= 1, 0.5, False) == "(0, 1]"
    assert schema.probe_bounds(lambda v: v >= 2, 3, True) == ">= 2"
    assert schema.probe_bounds(lambda v: True, 1.0, False) == ""
    assert schema.probe_bounds(lambda v: v < 30, 1.0, False) == "< 30"


def test_unit_of():
    assert schema.unit_of("block_nm") == "nm" and schema.unit_of("dose_e_per_nm2") == "e/nm^2"
    assert schema.unit_of("psd_area_per_nS_nm2") == "nm^2/nS" and schema.unit_of("tortuosity") == ""


def test_every_shipped_preset_validates():
    for name in preset_names():
        load_preset(name)


def test_listing_names_imports_no_stage_package():
    code = ("import sys; from pretty_printer.cli.main import main; main(['presets']); "
            "print(sorted(m for m in ('torch', 'neuron', 'scanners', 'phantoms', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "tiny\t" in out and out.strip().splitlines()[-1] == "[]"


def test_overrides_that_are_not_tables():
    with pytest.raises(ConfigError, match="not a table"):
        load_preset("tiny", ["tissue.block_nm.z=3"])
