"""The matrix-free projector and back-projector equal the sparse products of their definition, bit for bit."""

import numpy as np
import pytest

from scanners.tomo import ParallelBeam


def sparse_project(g, stack):
    """The sparse path: one CSC product per block of angles."""
    rows = stack.shape[0]
    flat = np.ascontiguousarray(stack.reshape(rows, -1).T, dtype=np.float32)
    out = np.empty((rows, g.n_angles, g.n_u), np.float32)
    for s in range(0, g.n_angles, g.block):
        m = g.matrix_block(s)
        k = m.shape[0] // g.n_u
        out[:, s:s + k, :] = (m @ flat).T.reshape(rows, k, g.n_u)
    return out


def sparse_backproject(g, sino):
    """The sparse path of the transpose: a CSR product per block, the block sums added."""
    rows = sino.shape[0]
    acc = np.zeros((g.ny * g.nx, rows), np.float32)
    for s in range(0, g.n_angles, g.block):
        m = g.matrix_block(s)
        k = m.shape[0] // g.n_u
        acc += m.T @ np.ascontiguousarray(sino[:, s:s + k, :].reshape(rows, -1).T, dtype=np.float32)
    return acc.T.reshape(rows, g.ny, g.nx)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("ny, nx, n_angles, block, rows", [(13, 17, 23, 5, 3), (9, 9, 7, None, 1), (21, 15, 40, 3, 4)])
def test_matrix_free_products_equal_the_sparse_products(ny, nx, n_angles, block, rows):
    rng = np.random.default_rng(ny * nx)
    g = ParallelBeam(ny, nx, np.linspace(0.0, 180.0, n_angles, endpoint=False), block=block)
    assert block is None or g.n_angles > 2 * g.block  # several blocks, the last one partial
    x = (rng.standard_normal((rows, ny, nx)) * 10.0 ** rng.uniform(-3, 3, (rows, ny, nx))).astype(np.float32)
    x[:, 0, :3] = [0.0, -0.0, 1e-30]  # zeros of both signs and a tiny value
    sino = rng.standard_normal((rows, g.n_angles, g.n_u)).astype(np.float32)
    sino[:, :, :2] = -0.0
    assert same_bits(g.project(x), sparse_project(g, x))
    assert same_bits(g.backproject(sino), sparse_backproject(g, sino))


def test_a_point_projects_onto_two_bins_per_angle():
    g = ParallelBeam(5, 5, np.array([0.0, 90.0, 33.0]))
    x = np.zeros((1, 5, 5), np.float32)
    x[0, 1, 3] = 2.0
    p = g.project(x)[0]
    assert np.allclose(p.sum(axis=1), 2.0) and ((p != 0).sum(axis=1) <= 2).all()
