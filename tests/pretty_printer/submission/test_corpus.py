"""A corpus of bad input: submissions, CLI options, presets and damaged datasets.

Every case goes through the CLI and must give exit code 2, exactly one line on stderr that names
the field and says what was expected and what was got, no traceback, and nothing written.
Cases reuse the session ``tiny_dataset`` / ``truth_submission`` (copied before tampering).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pretty_printer.cli.main import main

SECRET = "TOP-SECRET-LINE-7f3a"
CSV_HEAD = "pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm"
ROW = "600,1000,2900,640,1030,2900"
SHAPE = (50, 312, 312)  # tiny's EM grid (z, y, x)


def _run(capsys, argv):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:  # argparse usage errors
        rc = e.code
    return rc, capsys.readouterr().err


def _one_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    low = lines[0].lower()
    if "argument " in low:  # argparse: "argument --seed: invalid int value: 'abc'" names field and value
        assert "invalid" in low or "expected" in low, lines[0]
    else:
        said_expected = "expected" in low or "does not exist" in low
        said_got = any(w in low for w in ("got", "unknown", "does not exist", "missing"))
        assert said_expected and said_got, lines[0]
    for n in needles:
        assert n.lower() in low, (n, lines[0])
    assert SECRET not in err


# --------------------------------------------------------------------------- submissions
def _meta(d: Path, **changes):
    meta = json.loads((d / "submission.json").read_text())
    for k, v in changes.items():
        if v is _DROP:
            meta.pop(k, None)
        else:
            meta[k] = v
    (d / "submission.json").write_text(json.dumps(meta))


_DROP = object()


def _raw_meta(text: bytes):
    return lambda d, o: (d / "submission.json").write_bytes(text)


def _set(**changes):
    return lambda d, o: _meta(d, **changes)


def _csv(text, name="synapses.csv", raw=False):
    def f(d, o):
        (d / name).write_bytes(text if raw else text.encode())
    return f


def _syn(header_extra="", row_extra=""):
    return _csv(f"{CSV_HEAD}{header_extra}\n{ROW}{row_extra}\n")


def _cells(text):
    def f(d, o):
        (d / "cells.csv").write_text(text)
        _meta(d, cells="cells.csv")
    return f


def _npy(arr):
    def f(d, o):
        np.save(d / "seg.npy", arr)
        _meta(d, segmentation="seg.npy")
    return f


def _secret_file(o: Path) -> Path:
    p = o / "secret.csv"
    p.write_text(f"{SECRET}\n{SECRET},1\n")
    return p


def _symlink(name, target_fn):
    def f(d, o):
        (d / name).symlink_to(target_fn(d, o))
        key = "synapses" if name.endswith(".csv") else "segmentation"
        _meta(d, **{key: name})
    return f


def _zarr_group(arrays: dict, attrs: dict | None = None, fmt=2, spec="seg.zarr"):
    def f(d, o):
        import zarr

        g = zarr.open_group(str(d / "seg.zarr"), mode="w", zarr_format=fmt)
        g.attrs.update(attrs or {})
        for name, (shape, dtype) in arrays.items():
            g.create_array(name, shape=shape, dtype=dtype, chunks=tuple(min(s, 64) for s in shape), fill_value=0)
        _meta(d, segmentation=spec)
    return f


def _ome(axes, shape, scale, units="nanometer", version="0.4", dtype="uint32"):
    ax = [{"name": a, "type": "space" if a in "zyx" else "channel", **({"unit": units} if a in "zyx" else {})}
          for a in axes]
    ms = {"version": version, "axes": ax,
          "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": list(scale)}]}]}
    attrs = {"ome": {"version": version, "multiscales": [ms]}} if version == "0.5" else {"multiscales": [ms]}
    return _zarr_group({"0": (shape, dtype)}, attrs, fmt=3 if version == "0.5" else 2)


def _h5(datasets: dict, spec="seg.h5", external=False):
    def f(d, o):
        import h5py

        with h5py.File(d / "seg.h5", "w") as h:
            for name, arr in datasets.items():
                h.create_dataset(name, data=arr)
            if external:
                with h5py.File(o / "other.h5", "w") as g:
                    g.create_dataset("x", data=np.zeros(SHAPE, np.uint32))
                h["link"] = h5py.ExternalLink(str(o / "other.h5"), "x")
        _meta(d, segmentation=spec)
    return f


def _write(name, data: bytes, spec_key="segmentation"):
    def f(d, o):
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        _meta(d, **{spec_key: name.split("/")[0]})
    return f


def _zarr_chunk_symlink(d, o):
    src = o / "outside_chunk"
    src.write_bytes(b"\0" * 8)
    chunk_dir = d / "segmentation.zarr" / "0"
    chunk = next(p for p in chunk_dir.iterdir() if not p.name.startswith("."))
    chunk.unlink()
    chunk.symlink_to(src)


def _truth_path(which):
    def f(d, o):
        ds = o.parent / "dslink"
        _meta(d, segmentation=which(ds))
    return f


SUB_CASES = {
    # submission.json itself
    "json-missing": (lambda d, o: (d / "submission.json").unlink(), ["submission.json"]),
    "json-invalid": (_raw_meta(b"{not json"), ["submission.json", "json"]),
    "json-bare-string": (_raw_meta(b'"segmentation.zarr"'), ["submission.json", "object", "str"]),
    "json-list": (_raw_meta(b"[1, 2]"), ["submission.json", "object", "list"]),
    "json-number": (_raw_meta(b"42"), ["submission.json", "object", "int"]),
    "json-null": (_raw_meta(b"null"), ["submission.json", "object", "nonetype"]),
    "json-non-utf8": (_raw_meta(b'{"modality": "\xff\xfe"}'), ["submission.json", "utf-8"]),
    "json-empty": (_raw_meta(b""), ["submission.json", "json"]),
    "json-format-wrong": (_set(format="other/submission@9"), ["format", "neural-pretty-printer/submission@1"]),
    "json-modality-unknown": (_set(modality="mri"), ["modality", "mri"]),
    "json-modality-empty": (_set(modality=""), ["modality"]),
    **{f"json-missing-{k}": (_set(**{k: _DROP}), [k]) for k in ("modality", "segmentation", "synapses")},
    **{f"json-{k}-{tname}": (_set(**{k: v}), [k, tname])
       for k in ("modality", "segmentation", "synapses", "cells", "method", "format")
       for tname, v in (("int", 3), ("list", ["a"]), ("dict", {"a": 1}), ("bool", True))},
    # containment: paths and symlinks
    "path-absolute-truth": (_truth_path(lambda ds: str(ds / "truth" / "labels" / "em.zarr")), ["segmentation", "absolute"]),
    "path-dotdot-truth": (_set(segmentation="../../dslink/truth/labels/em.zarr"), ["segmentation", ".."]),
    "path-dotdot-inner": (_set(segmentation="sub/../../x.zarr"), ["segmentation", ".."]),
    "path-windows-absolute": (_set(segmentation="C:\\data\\seg.zarr"), ["segmentation", "absolute"]),
    "path-empty": (_set(segmentation=""), ["segmentation", "empty"]),
    "path-nul": (_set(segmentation="seg\0.zarr"), ["segmentation", "nul"]),
    "path-synapses-absolute-secret": (lambda d, o: _meta(d, synapses=str(_secret_file(o))), ["synapses", "absolute"]),
    "path-synapses-dotdot-secret": (lambda d, o: (_secret_file(o), _meta(d, synapses="../secret.csv")), ["synapses", ".."]),
    "path-cells-dotdot": (_set(cells="../cells.csv"), ["cells", ".."]),
    "symlink-synapses-secret": (_symlink("link.csv", lambda d, o: _secret_file(o)), ["synapses", "symlink"]),
    "symlink-segmentation-truth": (_symlink("link.zarr", lambda d, o: o.parent / "dslink" / "truth" / "labels" / "em.zarr"),
                                   ["segmentation", "symlink"]),
    "symlink-dir-chain": (lambda d, o: ((d / "inner").symlink_to(o), _secret_file(o), _meta(d, synapses="inner/secret.csv")),
                          ["synapses", "symlink"]),
    "symlink-inside-zarr": (_zarr_chunk_symlink, ["segmentation", "symlink"]),
    # segmentation volumes
    "seg-missing-file": (_set(segmentation="nope.zarr"), ["segmentation", "nope.zarr"]),
    "seg-unsupported-suffix": (_write("seg.png", b"\x89PNG"), ["segmentation", ".png"]),
    "seg-npy-wrong-shape": (_npy(np.zeros((50, 312, 311), np.uint32)), ["segmentation", "(50, 312, 312)", "(50, 312, 311)"]),
    "seg-npy-float": (_npy(np.zeros(SHAPE, np.float32)), ["segmentation", "integer", "float32"]),
    "seg-npy-negative": (_npy(-np.ones(SHAPE, np.int16)), ["segmentation", ">= 0"]),
    "seg-npy-5d": (_npy(np.zeros((1, 1, 2, 2, 2), np.uint8)), ["segmentation", "dimensions"]),
    "seg-npy-2d": (_npy(np.zeros((312, 312), np.uint8)), ["segmentation", "dimensions"]),
    "seg-npy-complex": (_npy(np.zeros((2, 2, 2), np.complex64)), ["segmentation"]),
    "seg-npy-corrupt": (_write("seg.npy", b"\x93NUMPY garbage"), ["segmentation", "seg.npy"]),
    "seg-npy-strings": (_npy(np.array([["a"]])), ["segmentation"]),
    "seg-zarr-huge-declared": (_zarr_group({"labels": ((4_000_000, 4_000_000, 4_000_000), "uint64")}),
                               ["segmentation", "(50, 312, 312)", "4000000"]),
    "seg-zarr-two-arrays": (_zarr_group({"a": (SHAPE, "uint32"), "b": (SHAPE, "uint32")}), ["segmentation", "2 arrays", "seg.zarr:name"]),
    "seg-zarr-no-arrays": (_zarr_group({}), ["segmentation", "0 arrays"]),
    "seg-zarr-named-missing": (_zarr_group({"a": (SHAPE, "uint32")}, spec="seg.zarr:b"), ["segmentation", "'b'"]),
    "seg-zarr-float": (_zarr_group({"a": (SHAPE, "float64")}), ["segmentation", "float64"]),
    "seg-zarr-corrupt-meta": (_write("seg.zarr/.zarray", b"{broken"), ["segmentation", "seg.zarr"]),
    "seg-ome-voxel-differs": (_ome("zyx", SHAPE, (40.0, 8.0, 8.0)), ["segmentation", "voxel size", "(40.0, 16.0, 16.0)"]),
    "seg-ome-voxel-um-differs": (_ome("zyx", SHAPE, (0.04, 0.016, 0.032), units="micrometer"), ["segmentation", "voxel size"]),
    "seg-ome-unknown-unit": (_ome("zyx", SHAPE, (40.0, 16.0, 16.0), units="furlong"), ["axis", "furlong"]),
    "seg-ome-bad-axis": (_ome("zyq", SHAPE, (40.0, 16.0, 16.0)), ["axes", "'q'"]),
    "seg-ome-duplicate-axis": (_ome("zyy", SHAPE, (40.0, 16.0, 16.0)), ["axes", "z, y, x"]),
    "seg-ome-channel-2": (_ome("czyx", (2, *SHAPE), (1.0, 40.0, 16.0, 16.0)), ["axes", "'c'", "length 2"]),
    "seg-ome-axes-count": (_zarr_group({"0": (SHAPE, "uint32")}, {"multiscales": [{"version": "0.4", "axes": [{"name": "z"}, {"name": "y"}],
                                        "datasets": [{"path": "0"}]}]}), ["axes", "2"]),
    "seg-ome-zxy-wrong-shape": (_ome("zxy", SHAPE[:1] + (300, 312), (40.0, 16.0, 16.0)), ["segmentation", "(50, 312, 312)", "(50, 312, 300)"]),
    "seg-ome05-voxel-differs": (_ome("zyx", SHAPE, (80.0, 16.0, 16.0), version="0.5"), ["segmentation", "voxel size"]),
    "seg-ome-no-datasets": (_zarr_group({}, {"multiscales": [{"version": "0.4", "axes": [], "datasets": []}]}), ["segmentation", "datasets"]),
    "seg-h5-two-datasets": (_h5({"a": np.zeros((2, 2, 2), np.uint8), "b": np.zeros((2, 2, 2), np.uint8)}), ["segmentation", "2 datasets"]),
    "seg-h5-external-link": (_h5({}, spec="seg.h5:link", external=True), ["segmentation", "link"]),
    "seg-h5-named-missing": (_h5({"a": np.zeros((2, 2, 2), np.uint8)}, spec="seg.h5:/b"), ["segmentation", "/b"]),
    "seg-h5-corrupt": (_write("seg.h5", b"not an hdf5 file"), ["segmentation", "seg.h5"]),
    "seg-tiff-corrupt": (_write("seg.tif", b"II*\0garbage"), ["segmentation", "seg.tif"]),
    # synapses.csv
    "syn-non-utf8": (_csv(b"pre_z_nm\xff,pre_y_nm\n", raw=True), ["synapses.csv", "utf-8", "0xff"]),
    "syn-latin1": (_csv(f"{CSV_HEAD},colour\n{ROW},caf\xe9\n".encode("latin-1"), raw=True), ["synapses.csv", "utf-8"]),
    "syn-utf16": (_csv(f"{CSV_HEAD}\n{ROW}\n".encode("utf-16"), raw=True), ["synapses.csv", "utf-8"]),
    "syn-empty": (_csv(""), ["synapses.csv", "header"]),
    "syn-missing-file": (lambda d, o: (d / "synapses.csv").unlink(), ["synapses.csv", "does not exist"]),
    **{f"syn-missing-{c}": (_csv(",".join(x for x in CSV_HEAD.split(",") if x != c) + "\n1,2,3,4,5\n"), [c])
       for c in CSV_HEAD.split(",")},
    "syn-unknown-column": (_syn(",colour", ",7"), ["colour", "expected columns from"]),
    "syn-unknown-unit-um": (_csv(CSV_HEAD.replace("pre_z_nm", "pre_z_um") + "\n" + ROW + "\n"), ["pre_z_um", "unit", "pre_z_nm"]),
    "syn-duplicate-column": (_csv(CSV_HEAD + ",pre_z_nm\n" + ROW + ",1\n"), ["pre_z_nm", "once"]),
    "syn-row-short": (_csv(f"{CSV_HEAD}\n1,2,3\n"), ["row 2", "6 fields", "3"]),
    "syn-row-long": (_csv(f"{CSV_HEAD}\n{ROW},9\n"), ["row 2", "6 fields", "7"]),
    "syn-nan": (_csv(f"{CSV_HEAD}\nnan,1,1,1,1,1\n"), ["pre_z_nm", "nan"]),
    "syn-inf": (_csv(f"{CSV_HEAD}\n1,inf,1,1,1,1\n"), ["pre_y_nm", "inf"]),
    "syn-1e200": (_csv(f"{CSV_HEAD}\n1,1,1e200,1,1,1\n"), ["pre_x_nm", "1e200"]),
    "syn-minus-1e300": (_csv(f"{CSV_HEAD}\n1,1,1,-1e300,1,1\n"), ["post_z_nm", "-1e300"]),
    "syn-text": (_csv(f"{CSV_HEAD}\n1,1,1,1,x,1\n"), ["post_y_nm", "'x'"]),
    "syn-empty-cell": (_csv(f"{CSV_HEAD}\n1,1,1,1,1,\n"), ["post_x_nm", "''"]),
    "syn-long-value-truncated": (_csv(f"{CSV_HEAD}\n1,1,1,1,1,{'z' * 500}\n"), ["post_x_nm", "..."]),
    "syn-id-float": (_syn(",pre_id,post_id", ",1.5,2"), ["pre_id", "integer", "'1.5'"]),
    "syn-id-exponent": (_syn(",pre_id,post_id", ",1e3,2"), ["pre_id", "'1e3'"]),
    "syn-id-negative": (_syn(",pre_id,post_id", ",1,-2"), ["post_id", "'-2'"]),
    "syn-id-2^64": (_syn(",pre_id,post_id", f",{2**64},1"), ["pre_id", "2^64", str(2**64)]),
    "syn-id-hex": (_syn(",pre_id,post_id", ",0x10,1"), ["pre_id", "'0x10'"]),
    "syn-id-text": (_syn(",pre_id,post_id", ",cell,1"), ["pre_id", "'cell'"]),
    "syn-sign-zero": (_syn(",sign", ",0"), ["sign", "+1 or -1", "'0'"]),
    "syn-sign-two": (_syn(",sign", ",2"), ["sign", "'2'"]),
    "syn-sign-word": (_syn(",sign", ",exc"), ["sign", "'exc'"]),
    "syn-nampa-negative": (_syn(",n_AMPA", ",-1"), ["n_AMPA", "non-negative integer"]),
    "syn-nampa-fraction": (_syn(",n_AMPA", ",2.5"), ["n_AMPA", "'2.5'"]),
    "syn-ngaba-text": (_syn(",n_GABA_A", ",many"), ["n_GABA_A", "'many'"]),
    "syn-conductance-negative": (_syn(",conductance_nS", ",-0.1"), ["conductance_nS", ">= 0"]),
    "syn-conductance-nan": (_syn(",conductance_nS", ",nan"), ["conductance_nS", "'nan'"]),
    "syn-psd-negative": (_syn(",psd_area_nm2", ",-5"), ["psd_area_nm2", ">= 0"]),
    "syn-psd-inf": (_syn(",psd_area_nm2", ",inf"), ["psd_area_nm2", "'inf'"]),
    "syn-unclosed-quote": (_csv(f'{CSV_HEAD}\n"1,1,1,1,1,1\n'), ["synapses.csv"]),
    # cells.csv
    "cells-missing-segment_id": (_cells("bias_nA\n0.1\n"), ["segment_id"]),
    "cells-unknown-column": (_cells("segment_id,colour\n1,red\n"), ["colour"]),
    "cells-unknown-unit": (_cells("segment_id,bias_pA\n1,3\n"), ["bias_pa", "unit"]),
    "cells-segment-negative": (_cells("segment_id,bias_nA\n-1,0\n"), ["segment_id", "'-1'"]),
    "cells-segment-float": (_cells("segment_id,bias_nA\n1.5,0\n"), ["segment_id", "'1.5'"]),
    "cells-bias-nan": (_cells("segment_id,bias_nA\n1,nan\n"), ["bias_nA", "'nan'"]),
    "cells-bias-text": (_cells("segment_id,bias_nA\n1,lots\n"), ["bias_nA", "'lots'"]),
    "cells-empty": (_cells(""), ["cells.csv", "header"]),
    "cells-missing-file": (_set(cells="nope.csv"), ["cells.csv", "does not exist"]),
    "cells-non-utf8": (lambda d, o: ((d / "cells.csv").write_bytes(b"segment_id\n\xff\n"), _meta(d, cells="cells.csv")),
                       ["cells.csv", "utf-8"]),
}


@pytest.fixture(scope="module")
def corpus_root(tiny_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    (root / "dslink").symlink_to(tiny_dataset)
    return root


@pytest.mark.parametrize("case", sorted(SUB_CASES))
def test_bad_submission(case, tiny_dataset, truth_submission, corpus_root, tmp_path, capsys):
    mutate, needles = SUB_CASES[case]
    work = corpus_root / case
    work.mkdir()
    sub = work / "sub"
    shutil.copytree(truth_submission, sub, symlinks=True)
    mutate(sub, work)
    out = tmp_path / "score.json"
    rc, err = _run(capsys, ["score", tiny_dataset, sub, "--no-function", "--json", out])
    assert rc == 2, err
    _one_line(err, *needles)
    assert not out.exists()


# --------------------------------------------------------------------------- CLI options
def _cli_cases():
    return {
        "score-json-is-dir": (lambda ds, sub, t: ["score", ds, sub, "--no-function", "--json", t], ["--json", "directory"]),
        "score-json-under-file": (lambda ds, sub, t: ["score", ds, sub, "--no-function", "--json", _file(t) / "x.json"],
                                  ["--json", "a file"]),
        "score-html-is-dir": (lambda ds, sub, t: ["score", ds, sub, "--no-function", "--html", t], ["--html", "directory"]),
        "score-threshold-zero": (lambda ds, sub, t: ["score", ds, sub, "--threshold-nm", "0"], ["--threshold-nm", "positive"]),
        "score-threshold-negative": (lambda ds, sub, t: ["score", ds, sub, "--threshold-nm=-5"], ["--threshold-nm", "-5"]),
        "score-threshold-nan": (lambda ds, sub, t: ["score", ds, sub, "--threshold-nm", "nan"], ["--threshold-nm", "nan"]),
        "score-threshold-inf": (lambda ds, sub, t: ["score", ds, sub, "--threshold-nm", "inf"], ["--threshold-nm", "inf"]),
        "score-threshold-text": (lambda ds, sub, t: ["score", ds, sub, "--threshold-nm", "far"], ["--threshold-nm", "far"]),
        "score-vi-convention": (lambda ds, sub, t: ["score", ds, sub, "--vi-convention", "snemi"], ["--vi-convention", "cremi", "snemi"]),
        "score-dataset-missing": (lambda ds, sub, t: ["score", t / "nope", sub], ["dataset", "does not exist"]),
        "score-dataset-is-file": (lambda ds, sub, t: ["score", _file(t), sub], ["dataset", "does not exist"]),
        "score-submission-missing": (lambda ds, sub, t: ["score", ds, t / "nope"], ["submission", "does not exist"]),
        "score-submission-is-file": (lambda ds, sub, t: ["score", ds, _file(t)], ["submission", "does not exist"]),
        "reconstruct-out-is-file": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--out", _file(t)], ["--out", "file"]),
        "reconstruct-out-in-public": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--out", Path(ds) / "public" / "sub"],
                                      ["--out", "inside", "dataset"]),
        "reconstruct-out-in-truth": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--out", Path(ds) / "truth" / "x" / "sub"],
                                     ["--out", "inside", "dataset"]),
        "reconstruct-out-unwritable": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--out", _readonly(t) / "sub"],
                                       ["--out", "writable"]),
        "reconstruct-out-under-file": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--out", _file(t) / "sub"],
                                       ["--out", "writable"]),
        "reconstruct-method": (lambda ds, sub, t: ["reconstruct", ds, "--method", "oracle", "--out", t / "s"], ["oracle", "truth"]),
        "reconstruct-modality": (lambda ds, sub, t: ["reconstruct", ds, "--modality", "mri", "--out", t / "s"], ["mri", "em"]),
        "reconstruct-perturb-kind": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--perturb", "melt=0.1", "--out", t / "s"],
                                     ["melt"]),
        "reconstruct-perturb-level": (lambda ds, sub, t: ["reconstruct", ds, "--method", "truth", "--perturb", "split=abc", "--out", t / "s"],
                                      ["split"]),
        "reconstruct-dataset-missing": (lambda ds, sub, t: ["reconstruct", t / "nope", "--out", t / "s"], ["dataset", "does not exist"]),
        "export-format": (lambda ds, sub, t: ["export", ds, "--format", "n5", "--out", t / "x.h5"], ["--format", "cremi", "n5"]),
        "export-out-is-dir": (lambda ds, sub, t: ["export", ds, "--out", t], ["--out", "directory"]),
        "export-out-parent-missing": (lambda ds, sub, t: ["export", ds, "--out", t / "a" / "b" / "x.h5"], ["--out", "missing"]),
        "export-multichannel": (lambda ds, sub, t: ["export", ds, "--modality", "exm", "--out", t / "x.h5"], ["exm", "channel"]),
        "export-modality": (lambda ds, sub, t: ["export", ds, "--modality", "mri", "--out", t / "x.h5"], ["mri", "em"]),
        "generate-out-in-public": (lambda ds, sub, t: ["generate", "--preset", "tiny", "--seed", "1", "--out", Path(ds) / "public" / "nested"],
                                   ["--out", "inside", "dataset"]),
        "generate-out-is-file": (lambda ds, sub, t: ["generate", "--preset", "tiny", "--seed", "1", "--out", _file(t)], ["--out", "file"]),
        "generate-out-nonempty": (lambda ds, sub, t: ["generate", "--preset", "tiny", "--seed", "1", "--out", _nonempty(t)],
                                  ["--out", "non-empty", "--force"]),
        "generate-seed-negative": (lambda ds, sub, t: ["generate", "--preset", "tiny", "--seed=-1", "--out", t / "d"], ["--seed", "-1"]),
        "generate-seed-text": (lambda ds, sub, t: ["generate", "--preset", "tiny", "--seed", "abc", "--out", t / "d"], ["--seed", "abc"]),
        "generate-preset-missing-file": (lambda ds, sub, t: ["generate", "--preset", str(t / "no.toml"), "--out", t / "d"], ["preset", "no.toml"]),
    }


def _file(t: Path) -> Path:
    p = t / "a_file"
    p.write_text("x")
    return p


def _nonempty(t: Path) -> Path:
    p = t / "full"
    p.mkdir(exist_ok=True)
    (p / "keep.txt").write_text("x")
    return p


def _readonly(t: Path) -> Path:
    p = t / "ro"
    p.mkdir()
    p.chmod(0o500)
    return p


CLI_CASES = _cli_cases()


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_bad_cli(case, tiny_dataset, truth_submission, tmp_path, capsys):
    if case == "reconstruct-out-unwritable" and os.geteuid() == 0:
        pytest.skip("root can write anywhere: permissions cannot make a directory unwritable")
    argv_fn, needles = CLI_CASES[case]
    work = tmp_path / "w"
    work.mkdir()
    before_ds = sorted(p.relative_to(tiny_dataset) for p in Path(tiny_dataset).rglob("*"))
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    argv = argv_fn(tiny_dataset, truth_submission, work)
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    rc, err = _run(capsys, argv)
    assert rc == 2, err
    _one_line(err, *needles)
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before  # nothing written
    assert sorted(p.relative_to(tiny_dataset) for p in Path(tiny_dataset).rglob("*")) == before_ds


# --------------------------------------------------------------------------- presets
PRESET_CASES = {
    "em-voxel-0.5nm": (["scan.em.voxel_nm=[0.5,0.5,0.5]"], ["memory", "GiB", "available"]),
    "xray-voxel-tiny": (["scan.xray.voxel_nm=[0.2,0.2,0.2]"], ["memory", "GiB"]),
    "barcodes-100000": (["tissue.barcode_proteins=100000"], ["memory", "GiB"]),
    "block-huge": (["tissue.block_nm=[2000000.0,2000000.0,2000000.0]"], ["GiB"]),
    "em-voxel-1nm-disk-or-memory": (["scan.em.voxel_nm=[1.0,1.0,1.0]"], ["GiB", "em"]),
    "unknown-section": (["colour.red=1"], ["colour", "expected one of"]),
    "unknown-tissue-key": (["tissue.no_such_key=1"], ["no_such_key", "expected one of"]),
    "unknown-scan-modality": (["scan.mri.preset='x'"], ["mri", "expected one of"]),
    "unknown-scanner-preset": (["scan.em.preset='nope'"], ["nope"]),
    "no-equals": (["tissue.block_nm"], ["key=value"]),
    "chunk-negative": (["output.chunk=[-1,2,3]"], ["chunk", "positive"]),
    "chunk-short": (["output.chunk=[1,2]"], ["chunk", "[1, 2]"]),
    "unknown-output-key": (["output.compression=9"], ["compression", "expected one of"]),
    "unknown-task": (["task.name='chess'"], ["chess"]),
    "unknown-compile-key": (["compile.colour=1"], ["colour", "expected one of"]),
    "unknown-cell-model": (["compile.cell='squid'"], ["squid"]),
    "task-unknown-key": (["task.size=3"], ["size", "expected one of"]),
}


@pytest.mark.parametrize("case", sorted(PRESET_CASES))
def test_bad_preset(case, tmp_path, capsys):
    overrides, needles = PRESET_CASES[case]
    argv = ["generate", "--preset", "tiny", "--seed", "1", "--quiet", "--out", tmp_path / "d"]
    for o in overrides:
        argv += ["--set", o]
    rc, err = _run(capsys, argv)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert all(n.lower() in lines[0].lower() for n in needles), lines[0]
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- damaged datasets
def _replace(p: Path, data: bytes) -> None:
    """Write ``data`` at ``p`` without touching a hard-linked original."""
    p.unlink(missing_ok=True)
    p.write_bytes(data)


def _manifest_edit(fn):
    def f(ds: Path):
        m = json.loads((ds / "public" / "manifest.json").read_text())
        fn(m)
        _replace(ds / "public" / "manifest.json", json.dumps(m).encode())
    return f


def _flip_byte(rel):
    def f(ds: Path):
        p = ds / rel
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0xFF
        _replace(p, bytes(data))
    return f


def _first_chunk(ds: Path) -> str:
    arr = ds / "truth" / "labels" / "em.zarr" / "0"
    return str(next(p for p in sorted(arr.iterdir()) if not p.name.startswith(".")).relative_to(ds))


DATASET_CASES = {
    "manifest-invalid-json": (lambda ds: _replace(ds / "public/manifest.json", b"{oops"), ["manifest.json", "json"]),
    "manifest-non-utf8": (lambda ds: _replace(ds / "public/manifest.json", b"\xff\xfe{}"), ["manifest.json", "json"]),
    "manifest-list": (lambda ds: _replace(ds / "public/manifest.json", b"[]"), ["manifest", "list"]),
    "manifest-missing": (lambda ds: (ds / "public/manifest.json").unlink(), ["manifest.json", "missing"]),
    "manifest-format": (_manifest_edit(lambda m: m.update(format="x@0")), ["format", "x@0"]),
    "manifest-no-modalities": (_manifest_edit(lambda m: m.pop("modalities")), ["modalities"]),
    "manifest-modalities-damaged": (_manifest_edit(lambda m: m["modalities"]["em"].pop("shape")), ["modalities"]),
    "manifest-no-commitment": (_manifest_edit(lambda m: m.pop("truth_sha256")), ["truth_sha256"]),
    "manifest-commitment-edited": (_manifest_edit(lambda m: m.update(truth_sha256="0" * 64)), ["truth", "sha-256"]),
    "manifest-shape-edited": (_manifest_edit(lambda m: m["modalities"]["em"].update(shape=[1, 50, 312, 300])),
                              ["modalities.em", "(50, 312, 312)", "(50, 312, 300)"]),
    "manifest-voxel-edited": (_manifest_edit(lambda m: m["modalities"]["em"].update(voxel_nm=[40.0, 8.0, 8.0])),
                              ["modalities.em", "voxel_nm", "(40.0, 8.0, 8.0)"]),
    "truth-missing": (lambda ds: shutil.rmtree(ds / "truth"), ["truth", "missing"]),
    "truth-seed-missing": (lambda ds: (ds / "truth/seed.json").unlink(), ["truth", "missing"]),
    "truth-reference-activity-edited": (_flip_byte("truth/reference_activity.npz"), ["truth/reference_activity.npz", "changed"]),
    "truth-circuit-corrupt": (lambda ds: _replace(ds / "truth/circuit.json", b"{corrupt"), ["truth/circuit.json"]),
    "truth-task-removed": (lambda ds: (ds / "truth/task.npz").unlink(), ["truth/task.npz", "removed"]),
    "truth-phantom-removed": (lambda ds: shutil.rmtree(ds / "truth/phantom"), ["truth/phantom/"]),
    "truth-labels-chunk-edited": (lambda ds: _flip_byte(_first_chunk(ds))(ds), ["truth/labels/em.zarr/0/"]),
    "truth-labels-shifted": (lambda ds: _shift_labels(ds), ["truth/labels/em.zarr"]),
    "truth-file-added": (lambda ds: _replace(ds / "truth/extra.txt", b"x"), ["truth/extra.txt", "added"]),
    "truth-synapses-edited": (_flip_byte("truth/synapses.csv"), ["truth/synapses.csv"]),
    "truth-fidelity-edited": (_flip_byte("truth/fidelity.json"), ["truth/fidelity.json"]),
}


def _shift_labels(ds: Path) -> None:
    import zarr

    src = ds / "truth/labels/em.zarr"
    tmp = ds / "truth/labels/em-copy.zarr"
    shutil.copytree(src, tmp)  # real copy (the originals are hard links)
    arr = zarr.open_group(str(tmp), mode="r+")["0"]
    arr[...] = np.roll(arr[...], 1, axis=-1)
    shutil.rmtree(src)
    tmp.rename(src)


@pytest.mark.parametrize("case", sorted(DATASET_CASES))
def test_damaged_dataset(case, tiny_dataset, truth_submission, tmp_path, capsys):
    damage, needles = DATASET_CASES[case]
    ds = tmp_path / "ds"
    shutil.copytree(tiny_dataset, ds, copy_function=os.link)  # hard links: cheap; damage replaces files
    damage(ds)
    out = tmp_path / "score.json"
    rc, err = _run(capsys, ["score", ds, truth_submission, "--no-function", "--json", out])
    assert rc == 2, err
    _one_line(err, *needles)
    assert not out.exists()


def test_corpus_size():
    n = len(SUB_CASES) + len(CLI_CASES) + len(PRESET_CASES) + len(DATASET_CASES)
    assert n >= 150, n


@pytest.mark.parametrize("cmd", ["compile", "score"])
def test_mechanism_cache_that_is_a_file(cmd, tiny_dataset, truth_submission, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "cache"
    bad.write_text("not a directory")
    monkeypatch.setenv("NEURAL_PRETTY_PRINTER_CACHE", str(bad / "sub"))
    argv = (["compile", "--task", "xor", "--json", tmp_path / "c.json"] if cmd == "compile"
            else ["score", tiny_dataset, truth_submission, "--json", tmp_path / "c.json"])
    rc, err = _run(capsys, argv)
    assert rc == 2, err
    _one_line(err, "NEURAL_PRETTY_PRINTER_CACHE", "directory", "a file")
    assert not (tmp_path / "c.json").exists()
