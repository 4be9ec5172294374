"""The submission format: every malformed input gets one clear error naming what is wrong."""

import json

import numpy as np
import pytest

from pretty_printer.errors import SubmissionError
from pretty_printer.submission.format import (
    POSITION_COLUMNS, Submission, read_submission, validate_segmentation, write_submission,
)


def _sub(n=3, seg_shape=(4, 5, 6)):
    rng = np.random.default_rng(0)
    syn = {c: rng.uniform(0, 100, n) for c in POSITION_COLUMNS}
    syn["pre_id"] = np.array([1, 2, 1][:n])
    syn["post_id"] = np.array([2, 1, 2][:n])
    seg = rng.integers(0, 3, seg_shape).astype(np.uint64)
    return Submission(modality="em", segmentation=seg, synapses=syn,
                      cells={"segment_id": np.array([1, 2]), "bias_nA": np.array([0.1, -0.2])}, method="test")


def test_round_trip(tmp_path):
    sub = _sub()
    write_submission(tmp_path / "s", sub, voxel_nm=(40, 16, 16))
    back = read_submission(tmp_path / "s", expected_shape=(4, 5, 6))
    assert np.array_equal(back.segmentation, sub.segmentation)
    for c in POSITION_COLUMNS:
        assert np.array_equal(back.synapses[c], sub.synapses[c])  # repr() of floats is exact
    assert np.array_equal(back.cells["bias_nA"], sub.cells["bias_nA"])


def _write_raw(tmp_path, csv_text, seg=None, name="seg.npy"):
    d = tmp_path / "raw"
    d.mkdir()
    np.save(d / name, np.zeros((2, 3, 4), np.uint32) if seg is None else seg)
    (d / "synapses.csv").write_text(csv_text)
    (d / "submission.json").write_text(json.dumps({"modality": "em", "segmentation": name, "synapses": "synapses.csv"}))
    return d


GOOD = "pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm\n1,2,3,4,5,6\n"


def test_npy_segmentation_reads(tmp_path):
    sub = read_submission(_write_raw(tmp_path, GOOD), expected_shape=(2, 3, 4))
    assert sub.n_synapses == 1


@pytest.mark.parametrize("seg,match", [
    (np.zeros((2, 3, 5), np.uint32), r"expected shape \(2, 3, 4\).*got \(2, 3, 5\)"),
    (np.zeros((2, 3, 4), np.float32), "floating-point"),
    (np.full((2, 3, 4), np.nan, np.float32), "floating-point"),  # refused from the dtype, before reading
    (-np.ones((2, 3, 4), np.int32), ">= 0"),
])
def test_bad_segmentations(tmp_path, seg, match):
    with pytest.raises(SubmissionError, match=match):
        read_submission(_write_raw(tmp_path, GOOD, seg=seg), expected_shape=(2, 3, 4))


@pytest.mark.parametrize("csv_text,match", [
    ("pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm\n1,2,3,4,5\n", "missing column 'post_x_nm'"),
    ("pre_z_um,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm\n1,2,3,4,5,6\n", "unknown unit 'um'"),
    ("pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm\nnan,2,3,4,5,6\n", "'pre_z_nm' row 2: expected a finite position in nm.*got 'nan'"),
    ("pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm,pre_id\n1,2,3,4,5,6,-4\n", r"'pre_id' row 2: expected an integer segment id in \[0, 2\^64\), got '-4'"),
    ("pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm\n1,2,x,4,5,6\n", "'pre_x_nm' row 2: expected a finite position"),
    ("pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm,colour\n1,2,3,4,5,6,7\n", "unknown column 'colour'"),
])
def test_bad_synapse_tables(tmp_path, csv_text, match):
    with pytest.raises(SubmissionError, match=match):
        read_submission(_write_raw(tmp_path, csv_text), expected_shape=(2, 3, 4))


def test_missing_directory_and_manifest(tmp_path):
    with pytest.raises(SubmissionError, match="does not exist"):
        read_submission(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SubmissionError, match="submission.json"):
        read_submission(tmp_path / "empty")


def test_validate_segmentation_accepts_unsigned():
    out = validate_segmentation(np.ones((1, 2, 2), np.uint16), (1, 2, 2))
    assert out.dtype == np.uint64


def test_write_refuses_non_empty_directory(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "keep.txt").write_text("x")
    with pytest.raises(Exception, match="non-empty"):
        write_submission(tmp_path / "s", _sub(), voxel_nm=(1, 1, 1))
    assert (tmp_path / "s" / "keep.txt").exists()


def test_channel_density_columns_round_trip_and_negative_is_rejected(tmp_path):
    from pretty_printer.submission.format import validate_cells

    sub = _sub()
    sub.cells["g_tonic_gabaa_mS_cm2"] = np.array([0.0, 0.02])
    sub.cells["g_cation_leak_mS_cm2"] = np.array([0.01, 0.0])
    write_submission(tmp_path / "s", sub, voxel_nm=(40, 16, 16))
    back = read_submission(tmp_path / "s", expected_shape=(4, 5, 6))
    assert np.array_equal(back.cells["g_tonic_gabaa_mS_cm2"], sub.cells["g_tonic_gabaa_mS_cm2"])
    bad = {"segment_id": np.array([1.0]), "g_cation_leak_mS_cm2": np.array([-0.1])}
    with pytest.raises(SubmissionError, match="g_cation_leak_mS_cm2.*>= 0"):
        validate_cells(bad)
    with pytest.raises(SubmissionError, match="unknown column 'g_hcn_mS_cm2'"):
        validate_cells({"segment_id": np.array([1.0]), "g_hcn_mS_cm2": np.array([0.1])})
