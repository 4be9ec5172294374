"""Error injection on a synthetic perfect submission: each kind does what it says, nested by level."""

import numpy as np
import pytest

from pretty_printer.errors import ConfigError
from pretty_printer.submission.perturb import parse_perturb, perturb
from pretty_printer.submission.format import Submission


def _blocks_submission():
    seg = np.zeros((4, 40, 40), np.uint64)
    for i in range(4):
        for j in range(4):
            seg[:, i * 10:i * 10 + 9, j * 10:j * 10 + 9] = 1 + i * 4 + j
    n = 30
    rng = np.random.default_rng(1)
    pre = rng.integers(1, 17, n)
    post = (pre % 16) + 1
    def centre(ids):
        i, j = (ids - 1) // 4, (ids - 1) % 4
        return np.stack([np.full(n, 2.0), i * 10 + 4.5, j * 10 + 4.5], 1)
    p, q = centre(pre), centre(post)
    syn = {f"pre_{a}_nm": p[:, k] for k, a in enumerate("zyx")}
    syn.update({f"post_{a}_nm": q[:, k] for k, a in enumerate("zyx")})
    syn.update({"pre_id": pre, "post_id": post, "conductance_nS": np.ones(n), "sign": np.ones(n)})
    return Submission(modality="em", segmentation=seg, synapses=syn, method="truth")


def _apply(levels, seed=0):
    return perturb(_blocks_submission(), levels, origin_nm=(0, 0, 0), voxel_nm=(1, 1, 1), rng=seed)


def test_split_adds_segments_monotonically():
    counts = [len(np.unique(_apply({"split": lv}).segmentation)) for lv in (0.0, 0.25, 0.5, 1.0)]
    assert counts == sorted(counts) and counts[-1] == 1 + 32


def test_merge_removes_segments_monotonically():
    counts = [len(np.unique(_apply({"merge": lv}).segmentation)) for lv in (0.0, 0.25, 0.5)]
    assert counts[0] > counts[1] > counts[2]


def test_drop_and_add_synapses_nested():
    base = _blocks_submission().n_synapses
    assert _apply({"drop_synapses": 0.5}).n_synapses == base // 2
    added = _apply({"add_synapses": 0.5})
    assert added.n_synapses == base + base // 2
    # lower levels are prefixes of higher ones
    a, b = _apply({"add_synapses": 0.2}), _apply({"add_synapses": 0.4})
    k = a.n_synapses
    assert np.array_equal(a.synapses["pre_id"], b.synapses["pre_id"][:k])


def test_weight_noise_keeps_positions_and_changes_weights():
    out = _apply({"weight_noise": 0.5})
    assert not np.allclose(out.synapses["conductance_nS"], 1.0)
    assert np.array_equal(out.synapses["pre_z_nm"], _blocks_submission().synapses["pre_z_nm"])


def test_same_seed_same_result_other_seed_differs():
    a, b, c = _apply({"split": 0.5}, 0), _apply({"split": 0.5}, 0), _apply({"split": 0.5}, 1)
    assert np.array_equal(a.segmentation, b.segmentation)
    assert not np.array_equal(a.segmentation, c.segmentation)


def test_merge_is_the_same_with_any_64_bit_ids():
    """Ids are opaque: an order-keeping relabel to ids beyond 2**53 (not float-representable, some
    >= 2**63) merges the same cells, so the nearest-centroid rule never goes through floats."""
    small = _blocks_submission()
    ids = np.arange(1, 17, dtype=np.uint64)
    big = np.array([2**60 + 3 * k + 1 for k in range(8)] + [2**64 - 1 - 2 * (8 - k) for k in range(8)], np.uint64)
    lut = dict(zip(ids.tolist(), big.tolist()))
    relabel = np.zeros(17, np.uint64)
    relabel[1:] = big
    synapses = dict(small.synapses, pre_id=relabel[small.synapses["pre_id"]], post_id=relabel[small.synapses["post_id"]])
    wide = Submission(modality="em", segmentation=relabel[small.segmentation.astype(np.int64)], synapses=synapses,
                      method="truth")
    for seed in (0, 1):
        a = perturb(small, {"merge": 0.5}, origin_nm=(0, 0, 0), voxel_nm=(1, 1, 1), rng=seed)
        b = perturb(wide, {"merge": 0.5}, origin_nm=(0, 0, 0), voxel_nm=(1, 1, 1), rng=seed)
        assert len(np.unique(a.segmentation)) == 1 + 8
        expect = np.where(a.segmentation == 0, np.uint64(0), relabel[a.segmentation.astype(np.int64)])
        assert np.array_equal(b.segmentation, expect)
        assert [lut[int(i)] for i in a.synapses["pre_id"]] == b.synapses["pre_id"].tolist()


@pytest.mark.parametrize("text,match", [
    ("split", "expected KIND=LEVEL"), ("splat=0.1", "unknown kind 'splat'"),
    ("merge=2", r"\[0, 1.0\]"), ("drop_synapses=x", "expected a number"),
])
def test_parse_errors(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_perturb(text)
