"""The CLI: one clear line and exit code 2 for bad input, and nothing written."""

import pytest

from pretty_printer.cli.main import main


def _run(capsys, argv):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse errors
        rc = e.code
    return rc, capsys.readouterr()


def test_unknown_preset_exit_2_nothing_written(tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "nope", "--out", str(tmp_path / "d"), "--seed", "1"])
    assert rc == 2
    assert "unknown preset 'nope'" in out.err and "tiny" in out.err
    assert len(out.err.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_option_exit_2(tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--colour", "red"])
    assert rc == 2 and "--colour" in out.err
    assert not (tmp_path / "d").exists()


def test_missing_dataset_exit_2(tmp_path, capsys):
    rc, out = _run(capsys, ["score", str(tmp_path / "missing"), str(tmp_path / "sub")])
    assert rc == 2 and "does not exist" in out.err
    rc, out = _run(capsys, ["reconstruct", str(tmp_path / "missing"), "--method", "truth", "--out", str(tmp_path / "s")])
    assert rc == 2 and not (tmp_path / "s").exists()


def test_score_bad_worker_count_exit_2(tmp_path, capsys):
    json_out = tmp_path / "card.json"
    rc, out = _run(capsys, ["score", str(tmp_path / "ds"), str(tmp_path / "sub"), "--workers", "0", "--json", str(json_out)])
    assert rc == 2 and "--workers: expected a positive integer, got 0" in out.err
    assert len(out.err.strip().splitlines()) == 1 and not json_out.exists()


def test_bad_override_exit_2(tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--set", "tissue.no_such_key=1"])
    assert rc == 2 and "no_such_key" in out.err and "expected one of" in out.err
    assert not (tmp_path / "d").exists()


def test_bad_scanner_value_exit_2(tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--set", "scan.em.dose_e_per_nm2=-1"])
    assert rc == 2 and "dose_e_per_nm2" in out.err
    assert not (tmp_path / "d").exists()


def test_presets_lists_tiny(capsys):
    rc, out = _run(capsys, ["presets"])
    assert rc == 0 and (out.out.startswith("tiny") or "\ntiny\t" in out.out)


@pytest.mark.parametrize("override,key", [
    ("scan.em.colour=1", "colour"),
    ("scan.em.voxel_nm=[-40,16,16]", "voxel_nm"),
    ("scan.em.dose_e_per_nm2=0", "dose_e_per_nm2"),
    ("scan.xray.n_angles=-3", "n_angles"),
    ("scan.exm.expansion_factor=0", "expansion_factor"),
])
def test_bad_scanner_preset_names_the_key(override, key, tmp_path, capsys):
    rc, out = _run(capsys, ["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--set", override])
    assert rc == 2 and key in out.err and len(out.err.strip().splitlines()) == 1, out.err
    assert not (tmp_path / "d").exists()
