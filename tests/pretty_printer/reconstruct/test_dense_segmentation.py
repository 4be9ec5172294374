"""Dense neuropil (dense_segmentation rules 1 and 3): no extracellular class where the histogram
has none, and sections linked by overlap share, not by any overlap."""

import numpy as np

from pretty_printer.reconstruct.dense_segmentation import classify, link_sections, segment_dense

VOX = np.array([40.0, 16.0, 16.0])


def _packed(shape=(8, 64, 96), noise=0.02, seed=0):
    """Six cells packed wall to wall in 2 x 3 (no extracellular space): cytoplasm 1.0, membranes 0.6."""
    truth = np.zeros(shape, np.int64)
    for i, ys in enumerate((slice(0, 32), slice(32, 64))):
        for j, xs in enumerate((slice(0, 32), slice(32, 64), slice(64, 96))):
            truth[:, ys, xs] = 1 + 3 * i + j
    r = np.ones(shape, np.float32)
    for x in (31, 32, 63, 64):
        r[:, :, x] = 0.6
    r[:, 31:33, :] = 0.6
    r[:, :2, :] = r[:, -2:, :] = 0.6
    r[:, :, :2] = r[:, :, -2:] = 0.6
    return truth, r + noise * np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_no_extracellular_class_in_packed_cells():
    truth, r = _packed()
    c = classify(r, VOX)
    assert c is not None and c.t_ecs == float("inf")
    seg, _ = segment_dense(r, VOX)
    main = []
    for cell in range(1, 7):  # each cell is one segment of its own (rule 2 no longer calls it extracellular)
        ids, n = np.unique(seg[truth == cell], return_counts=True)
        assert ids[np.argmax(n)] > 0 and n.max() / n.sum() > 0.9
        main.append(int(ids[np.argmax(n)]))
    assert len(set(main)) == 6


def test_a_sliver_does_not_link_two_cells_across_sections():
    interiors = np.zeros((3, 20, 40), bool)
    interiors[0, 2:18, 2:18] = True  # cell A in section 0
    interiors[2, 2:18, 22:38] = True  # cell B in section 2
    interiors[1, 13:15, 10:30] = True  # a thin sliver in section 1 overlapping both
    interiors[0, 2:18, 22:38] = interiors[2, 2:18, 2:18] = True  # A and B continue
    interiors[1, 2:12, 2:18] = interiors[1, 2:12, 22:38] = True
    lab = link_sections(interiors, (40.0, 16.0, 16.0))
    a, b = lab[0, 5, 5], lab[0, 5, 30]
    assert a > 0 and b > 0 and a != b
    assert lab[2, 5, 5] == a and lab[2, 5, 30] == b


def test_fast_filters_equal_scipys():
    """The EM baseline's flat-field percentile and cleft-shell dilation give scipy's values exactly."""
    from scipy import ndimage

    from pretty_printer.reconstruct.clefts import _dilate_box
    from pretty_printer.reconstruct.flatfield import percentile_planes

    rng = np.random.default_rng(0)
    for t in range(40):
        shape = (2, int(rng.integers(1, 40)), int(rng.integers(1, 40)))
        a = rng.random(shape).astype(np.float32)
        if t % 2:
            a = np.round(a * 3)  # ties
        size = 2 * int(rng.integers(0, 8)) + 1  # some wider than the plane: scipy's own path
        for pc in (0.0, 10.0, 80.0, 100.0):
            want = ndimage.percentile_filter(a, pc, size=(1, size, size), mode="reflect")
            got = percentile_planes(a, pc, size, rows=int(rng.integers(1, 9)))
            assert got.dtype == want.dtype and np.array_equal(got, want), (shape, size, pc)
        mask = rng.random(shape) < 0.1
        half = [int(h) for h in rng.integers(0, 4, 3)]
        assert np.array_equal(_dilate_box(mask, half),
                              ndimage.binary_dilation(mask, np.ones([2 * h + 1 for h in half], bool)))


def _merge_enclosed_dense(seg, rounds=3):
    """Rule 6 as first written: the full (n, n) contact matrix (the reference for the sparse one)."""
    from pretty_printer.reconstruct.dense_segmentation import ENCLOSED_SHARE

    seg = np.asarray(seg, np.int64)
    for _ in range(rounds):
        n = int(seg.max()) + 1
        if n <= 2:
            break
        pairs = []
        for ax in range(3):
            a = np.moveaxis(seg, ax, 0)
            lo, hi = a[:-1].ravel(), a[1:].ravel()
            d = lo != hi
            pairs += [lo[d] * n + hi[d], hi[d] * n + lo[d]]
        contact = np.bincount(np.concatenate(pairs), minlength=n * n).reshape(n, n)
        total = contact.sum(axis=1)
        best = np.argmax(contact[:, 1:], axis=1) + 1
        share = contact[np.arange(n), best] / np.maximum(total, 1)
        enclosed = (share >= ENCLOSED_SHARE) & (np.arange(n) > 0) & (total > 0)
        if not enclosed.any():
            break
        target = np.arange(n)
        target[enclosed] = best[enclosed]
        for _ in range(8):
            target = target[target]
        seg = target[seg]
    return seg.astype(np.uint64)


def test_an_organelle_in_an_organelle_takes_its_cells_label():
    """Rule 6, known answer: 3 inside 2 inside 1 all become 1; 4, touching 1 and space, stays."""
    from pretty_printer.reconstruct.dense_segmentation import merge_enclosed

    seg = np.zeros((9, 20, 20), np.uint64)
    seg[1:8, 1:12, 1:12] = 1
    seg[2:7, 3:10, 3:10] = 2
    seg[3:6, 5:8, 5:8] = 3
    seg[1:8, 12:19, 1:12] = 4
    got = merge_enclosed(seg)
    assert got.dtype == np.uint64
    want = seg.copy()
    want[want >= 2] = 1
    want[seg == 4] = 4
    assert np.array_equal(got, want)


def test_sparse_contacts_equal_the_contact_matrix():
    """merge_enclosed's sparse contacts give the labels of the full (n, n) matrix, ties included."""
    from pretty_printer.reconstruct.dense_segmentation import merge_enclosed

    rng = np.random.default_rng(3)
    for t in range(30):
        shape = tuple(int(v) for v in rng.integers(2, 12, 3))
        seg = np.zeros(shape, np.int64)
        for _ in range(int(rng.integers(1, 8))):  # nested and touching boxes, some ids skipped
            lo = [int(rng.integers(0, s)) for s in shape]
            hi = [int(rng.integers(a + 1, s + 1)) for a, s in zip(lo, shape)]
            seg[tuple(slice(a, b) for a, b in zip(lo, hi))] = int(rng.integers(1, 12))
        if t % 3 == 0:
            seg[rng.random(shape) < 0.05] = 0
        assert np.array_equal(merge_enclosed(seg), _merge_enclosed_dense(seg)), t
