"""Soma radii from a segmentation (``excitability.soma_radii_nm``): known answers, and its
section-by-section distances equal scipy's whole-volume ones bit for bit."""

import numpy as np
from scipy import ndimage

from pretty_printer.reconstruct.excitability import _section_distance, soma_radii_nm


def test_a_cube_has_the_radius_of_its_inscribed_sphere():
    """A 5-voxel cube: its boundary voxels count as outside, so the centre is 2 voxels in, + half a voxel."""
    seg = np.zeros((7, 7, 7), np.uint64)
    seg[1:6, 1:6, 1:6] = 1
    assert soma_radii_nm(seg, (1.0, 1.0, 1.0)) == {1: 2.5}
    assert soma_radii_nm(seg, (2.0, 1.0, 1.0)) == {1: 2.5}  # thicker sections: in-plane is nearer
    seg[1:6, 1:6, 1:6] = 2 ** 40  # an opaque id: the sorted route, the same answer
    assert soma_radii_nm(seg, (1.0, 1.0, 1.0)) == {2 ** 40: 2.5}


def test_section_distances_are_scipys_bits():
    rng = np.random.default_rng(1)
    for shape, vox in (((7, 30, 41), (40.0, 16.0, 16.0)), ((5, 9, 11), (3.0, 7.0, 1.3)), ((1, 4, 4), (1.0, 1.0, 1.0))):
        inner = rng.random(shape) > 0.3
        ft = ndimage.distance_transform_edt(inner, sampling=vox, return_distances=False, return_indices=True)
        want = ndimage.distance_transform_edt(inner, sampling=vox) + 0.5
        got = np.stack([_section_distance(ft, z, np.asarray(vox), 0.5) for z in range(shape[0])])
        assert np.array_equal(got.view(np.int64), want.view(np.int64))


def test_table_and_sorted_routes_agree():
    """Small ids (a table indexed by label) and huge ids (sorted) give the same radii."""
    rng = np.random.default_rng(2)
    small = rng.integers(0, 6, (6, 20, 20)).astype(np.uint64)
    small = ndimage.median_filter(small, size=3)  # blobs, not salt
    big = np.where(small > 0, small + np.uint64(2 ** 50), np.uint64(0))
    a, b = soma_radii_nm(small, (40.0, 16.0, 16.0)), soma_radii_nm(big, (40.0, 16.0, 16.0))
    assert [k + 2 ** 50 for k in a] == list(b) and list(a.values()) == list(b.values())
