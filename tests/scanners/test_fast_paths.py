"""The scanners' faster paths give the same bits as the plain element-wise definitions."""

from __future__ import annotations

import numpy as np
import pytest

from scanners import labelling
from scanners.noise import hash_uniform, lattice_noise, poisson_cdf_inverse


def test_hash_of_open_grids_equals_hash_of_full_grids():
    rng = np.random.default_rng(0)
    axes = [rng.integers(-50, 50, n) for n in (4, 7, 9)]
    full = np.meshgrid(*axes, indexing="ij")
    sparse = np.meshgrid(*axes, indexing="ij", sparse=True)
    assert np.array_equal(hash_uniform(11, 3, *full), hash_uniform(11, 3, *sparse))
    assert hash_uniform(11, *sparse).shape == (4, 7, 9)


def _lattice_noise_full_grid(key, axes_nm, length_nm):
    """lattice_noise as first written: the lattice hashed on full (dense) index grids."""
    idx0, frac, lo = [], [], []
    for a in axes_nm:
        t = np.asarray(a, np.float64) / length_nm
        i0 = np.floor(t).astype(np.int64)
        f = t - i0
        idx0.append(i0)
        frac.append((f * f * (3 - 2 * f)).astype(np.float32))
        lo.append(int(i0.min()))
    grids = np.meshgrid(*[np.arange(l, int(i.max()) + 2) for l, i in zip(lo, idx0)], indexing="ij")
    field = (2.0 * hash_uniform(key, *grids) - 1.0).astype(np.float32)
    for ax, (i0, f, l) in enumerate(zip(idx0, frac, lo)):
        a, b = np.take(field, i0 - l, axis=ax), np.take(field, i0 - l + 1, axis=ax)
        shape = [1] * field.ndim
        shape[ax] = -1
        field = a + (b - a) * f.reshape(shape)
    return field


@pytest.mark.parametrize("length", [9.0, 60.0])
def test_lattice_noise_is_the_full_grid_definition(length):
    rng = np.random.default_rng(1)
    axes = [np.sort(rng.uniform(-300, 900, n)) for n in (3, 20, 17)]
    assert np.array_equal(lattice_noise(5, axes, length), _lattice_noise_full_grid(5, axes, length))


def test_compiled_lattice_noise_large_keys_and_negative_coordinates():
    rng = np.random.default_rng(4)
    for key in (0, 2**63 + 12345, 2**64 - 1):
        axes = [np.sort(rng.uniform(-5000, -100, n)) for n in (2, 31, 1)]
        assert np.array_equal(lattice_noise(key, axes, 9.0), _lattice_noise_full_grid(key, axes, 9.0))


def test_hash_of_one_coordinate_array_is_the_splitmix_rounds():
    c = np.random.default_rng(3).integers(-2**40, 2**40, (6, 7))
    key = 2**63 + 99
    with np.errstate(over="ignore"):  # the numpy rounds, as hash_uniform defines them
        h = np.uint64(key) ^ (c.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        h = h ^ (h >> np.uint64(31))
    want = (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    assert np.array_equal(hash_uniform(key, c), want)
    assert np.array_equal(hash_uniform(key, c.astype(np.uint32)), hash_uniform(key, c.astype(np.uint32).astype(np.int64)))


def test_hash_of_an_open_grid_after_scalars_equals_the_numpy_rounds():
    rng = np.random.default_rng(5)
    axes = [rng.integers(-10**6, 10**6) + np.arange(n) for n in (3, 5, 8)]
    grids = np.meshgrid(*axes, indexing="ij", sparse=True)
    full = np.meshgrid(*axes, indexing="ij")  # full grids: the element-wise numpy rounds
    assert np.array_equal(hash_uniform(2**63 + 7, 1003, *grids), hash_uniform(2**63 + 7, 1003, *full))


@pytest.mark.parametrize("molecules", [20.0, 1.0])
def test_compiled_speckle_is_the_numpy_definition(molecules):
    rng = np.random.default_rng(7)
    d = (rng.exponential(1.0, (4, 6, 7)) * (rng.random((4, 6, 7)) < 0.7)).astype(np.float32)
    d[0, 0, :4] = [40.0, 2.0, 0.0, 100.0]  # means above 30 take the normal quantile
    d[1], d[2, :3] = 0.7, 1.3  # runs of one mean (a cell's barcode): its CDF terms are reused
    d[3] = rng.choice(rng.uniform(0.1, 2.0, 90), (6, 7)).astype(np.float32)  # more means than kept tables
    starts = (-3, 40, 7)
    got = labelling.speckle(99, d, starts, 1001, molecules)
    mean = d.astype(np.float64) * molecules  # the numpy definition
    grids = np.meshgrid(*[np.arange(s, s + n) for s, n in zip(starts, d.shape)], indexing="ij", sparse=True)
    u = np.clip(hash_uniform(99 ^ 0x5C, 1001, *grids), 1e-12, 1 - 1e-12)
    want = (labelling._poisson_quantile(mean, u) / molecules).astype(np.float32)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    scaled = labelling.speckle(99, d, starts, 1001, molecules, (0.3, 7.0))  # factors in the same pass
    want = want * np.float32(0.3) * np.float32(7.0)
    assert np.array_equal(scaled.view(np.uint32), want.view(np.uint32))


def test_poisson_inverse_equals_stepping_every_value():
    rng = np.random.default_rng(2)
    m = rng.exponential(3.0, 5000)
    u = rng.random(5000)
    k, pmf = np.zeros_like(m), np.exp(-m)
    cdf = pmf.copy()
    for j in range(60):  # the plain loop: every value stepped every time
        k += u > cdf
        pmf = pmf * m / (j + 1)
        cdf = cdf + pmf
    assert np.array_equal(poisson_cdf_inverse(m, u, 60), k)


def test_cell_expression_is_per_voxel_hash_of_the_cell():
    from scipy import special

    rng = np.random.default_rng(3)
    for high in (6, 70_000):  # a look-up table and np.unique
        labels = rng.integers(0, high, (5, 8, 9)).astype(np.uint32)
        z = special.ndtri(np.clip(hash_uniform(7 ^ 0xE1, labels, 2), 1e-9, 1 - 1e-9))
        s2 = np.log1p(0.25)
        want = np.exp(np.sqrt(s2) * z - s2 / 2).astype(np.float32)
        want *= (hash_uniform(7 ^ 0xD2, labels, 2) >= 0.1).astype(np.float32)
        assert np.array_equal(labelling.cell_expression(7, labels, 2, 0.5, 0.1), want)


def test_blur_cut_to_the_inner_box_after_each_pass_is_the_cropped_blur():
    from scanners.chunking import gaussian_halo
    from scanners.psf import blur

    sigma = (0.88, 0.85, 1.3)
    h = gaussian_halo(sigma)
    img = np.random.default_rng(8).random((9 + 2 * h[0], 11 + 2 * h[1], 7 + 2 * h[2])).astype(np.float32)
    inner = tuple(slice(a, n - a) for a, n in zip(h, img.shape))
    assert np.array_equal(blur(img, sigma, inner).view(np.uint32), blur(img, sigma)[inner].view(np.uint32))


@pytest.mark.parametrize("integral, channels", [(False, 3), (True, 3), (False, 67)])
def test_trilinear_shifted_is_scipy_map_coordinates_at_the_warp_coordinates(integral, channels):
    """Bit for bit SciPy's order-1 "nearest" interpolation at the coordinates ExM's warp builds, inside,
    outside (clamped) and exactly on the last voxel (integral shifts); channels zero in patches (the
    compiled warp skips them where all 8 corners are zero, -0.0 included) and more channels than
    one call's 64-bit mask."""
    from scipy import ndimage

    from scanners.warp_kernel import trilinear_shifted

    rng = np.random.default_rng(9)
    stack = (100 * rng.standard_normal((channels, 9, 12, 10))).astype(np.float32)
    stack[rng.random(stack.shape) < 0.7] = 0.0
    stack[:, :4, :6] = 0.0
    stack[0, 4, 6, 5] = -0.0
    ud = rng.uniform(-6, 12, (3, 5, 6, 4)).astype(np.float32)
    sd = np.array([0.3, -0.7, 0.2], np.float32)
    off = np.array([2.0, 3.0, 3.0])
    if integral:
        ud, sd = np.round(ud), np.zeros(3, np.float32)
        ud[:, 0, 0, 0] = np.array(stack.shape[1:]) - 1 - off  # exactly on the last voxel
    coords = np.empty((3, 5, 6, 4))
    for d in range(3):  # as ExM's warp built them: float64(u/vox + shift/vox) + (index + halo)
        shape = [1, 1, 1]
        shape[d] = -1
        coords[d] = (ud[d] + sd[d]).astype(np.float64)
        coords[d] += (np.arange(coords.shape[1 + d], dtype=np.float64) + off[d]).reshape(shape)
    got = trilinear_shifted(stack, ud, sd, off)
    for ch in range(channels):
        want = ndimage.map_coordinates(stack[ch], coords, order=1, mode="nearest", output=np.float32,
                                       prefilter=False)
        assert np.array_equal(got[ch].view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("voxel, organelles", [((15.0, 16.0, 16.0), ("mito", "nucleus", "organelle_membrane")),
                                               ((60.0, 80.0, 80.0), ("mito", "nucleus", "organelle_membrane")),
                                               ((15.0, 16.0, 16.0), ("mito",)), ((15.0, 16.0, 16.0), ())])
def test_compiled_stain_sum_is_the_numpy_terms(voxel, organelles):
    """The stain density's one-pass sum against its numpy terms, on fields of every kind: fine
    voxels (textures resolved) and coarse ones (cristae and chromatin at their means), with and
    without organelle fields."""
    from scanners import stain
    from scanners.em import EMConfig

    rng = np.random.default_rng(7)
    shape = (2, 23, 19)
    labels = rng.integers(0, 4, shape).astype(np.uint32)
    fields = {"labels": labels, "membrane": rng.uniform(0, 1, shape).astype(np.float32)}
    for f in ("psd", "cleft", "vesicles") + organelles:
        fields[f] = (rng.uniform(0, 1, shape) < 0.3).astype(np.float32)
    if "organelle_membrane" in fields:
        fields["organelle_membrane"] *= rng.uniform(0, 1, shape).astype(np.float32)
    axes = tuple(1000.0 + (np.arange(n) + 0.5) * v for n, v in zip(shape, voxel))
    model, key = EMConfig().stain, 12345
    got = stain.stain_density(fields, model, axes, key)
    tex = stain._texture(key, axes, model.texture_length_nm)
    if stain._resolved(axes, stain.GRANULE_NM):
        tex = tex + np.float32(model.granularity) * stain._texture(key ^ 0x6A11, axes, stain.GRANULE_NM)
    per_cell = (1.0 + model.cell_contrast * (2.0 * hash_uniform(key ^ 0x5EED, labels) - 1.0)).astype(np.float32)
    cr = stain._banded(key ^ 0xC415, axes, stain.CRISTAE_NM, 2.5, 0.3, stain.CRISTAE_MEAN) if "mito" in fields else None
    chrom = (stain._banded(key ^ 0xC4A0, axes, stain.CHROMATIN_NM, 2.0, 0.2, stain.CHROMATIN_MEAN)
             if "nucleus" in fields else None)
    want = stain._combine_numpy(fields, model, tex, per_cell, cr, chrom)
    assert got.dtype == np.float32 and got.shape == shape
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(stain._combine_compiled(fields, model, tex, per_cell, cr, chrom).view(np.uint32),
                          want.view(np.uint32))


def test_in_plane_blur_of_a_stack_is_each_section_blurred_alone():
    """EM blurs a chunk's sections of one probe width as one stack (in-plane passes only, cut to
    the chunk): each section's pixels are those of blurring it alone and cropping."""
    from scanners.chunking import gaussian_halo
    from scanners.psf import blur

    rng = np.random.default_rng(8)
    stack = rng.uniform(0, 1, (5, 40, 37)).astype(np.float32)
    s = (0.0, 0.9, 1.7)
    _, hy, hx = gaussian_halo(np.array(s))
    inner = (slice(None), slice(hy, 40 - hy), slice(hx, 37 - hx))
    got = blur(stack, s, inner)
    for i in range(5):
        want = blur(stack[i], s[1:])[hy:40 - hy, hx:37 - hx]
        assert np.array_equal(got[i].view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("artifacts", [{"fold_rate": 0.3, "crack_rate": 0.2, "debris_rate": 2.0},
                                       {"thickness_cv": 0.1, "debris_rate": 1.0}])
def test_em_sections_as_stacks_are_each_section_alone(cells, artifacts):
    """EM rasterizes and stains a chunk's plain sections (no fold or crack, one cut thickness) as
    one stack: each section's signal has the bits of rendering it alone (folded and cracked
    sections stay alone; uneven cutting makes stacks of one)."""
    import scanners
    from scanners.base import as_seed_sequence

    s = scanners.make_scanner({"preset": "sbem", "voxel_nm": [30, 16, 16], "misalignment_jitter_nm": 7.0, **artifacts})
    origin, shape = np.array([0.0, 0.0, 0.0]), (12, 60, 70)
    plan = s._plan(cells, origin, shape, as_seed_sequence(4))
    corner = origin[1:] + np.array([-3.0, -5.0]) * 16.0
    ks = [k for k in range(shape[0]) if not plan.artifacts.missing[k]]
    got = s._sections_signal(cells, plan, ks, corner, (66, 76))
    assert sorted(got) == ks
    for k in ks:
        want = s._section_signal(cells, plan, k, corner, (66, 76))
        assert np.array_equal(got[k].view(np.uint32), want.view(np.uint32)), k
    zyx = (slice(1, 11), slice(4, 50), slice(7, 66))
    assert np.array_equal(s._labels_chunk(cells, plan, zyx), _em_labels_one_by_one(s, cells, plan, zyx))


def _em_labels_one_by_one(s, tissue, plan, zyx):
    """EM's labels on its frame as first written: each section alone, every layer under its mask."""
    sz, sy, sx = zyx
    art, (vz, vy, vx) = plan.artifacts, s.voxel_nm
    shape_yx = (sy.stop - sy.start, sx.stop - sx.start)
    corner_yx = np.array([plan.origin[1] + sy.start * vy, plan.origin[2] + sx.start * vx])
    out = np.zeros((sz.stop - sz.start,) + shape_yx, np.uint32)
    for i, k in enumerate(range(sz.start, sz.stop)):
        if art.missing[k]:
            continue
        ys, xs, ty, tx = s._section_axes(plan, k, corner_yx, shape_yx)
        n = np.zeros(shape_yx, np.int8)
        for off, mask in art.layers(k, ty, tx):
            corner = np.array([s._section_z(plan, k) - vz / 2, corner_yx[0] + art.shift_nm[k, 0] + off[0],
                               corner_yx[1] + art.shift_nm[k, 1] + off[1]])
            lab = tissue(corner, (1,) + shape_yx, s.voxel_nm, ["labels"])["labels"][0]
            out[i][mask] = lab[mask]
            n += mask
        out[i][n != 1] = 0
        out[i][art.debris_mask(k, ys, xs)] = 0
    return out


def test_stain_density_of_a_stack_is_each_box_alone():
    """The stack's stain density (textures per box, the sums over the stack where every box adds
    the same terms) against each box's own :func:`scanners.stain.stain_density`: boxes with and
    without mitochondria, and coarse voxels (cristae and chromatin at their means)."""
    from scanners import stain
    from scanners.em import EMConfig
    from scanners.stain_sections import stain_density_sections

    rng = np.random.default_rng(9)
    model, key = EMConfig().stain, 2**63 + 777  # a key above 2**63, as seed_int gives
    for voxel, mito_in in [((15.0, 16.0, 16.0), [1, 0, 1, 1]), ((15.0, 16.0, 16.0), [1, 1, 1, 1]),
                           ((60.0, 80.0, 80.0), [1, 1, 0, 1])]:
        shape = (4, 2, 21, 17)
        fields = {"labels": rng.integers(0, 4, shape).astype(np.uint32),
                  "membrane": rng.uniform(0, 1, shape).astype(np.float32)}
        for f in ("psd", "cleft", "vesicles", "mito", "nucleus", "organelle_membrane"):
            fields[f] = (rng.uniform(0, 1, shape) < 0.3).astype(np.float32)
        fields["mito"] *= np.array(mito_in, np.float32)[:, None, None, None]
        axes = [tuple(c + (np.arange(n) + 0.5) * v for c, n, v in zip(corner, shape[1:], voxel))
                for corner in rng.uniform(-500, 500, (4, 3))]
        got = stain_density_sections(fields, model, axes, key)
        for q in range(4):
            want = stain.stain_density({f: a[q] for f, a in fields.items()}, model, axes[q], key)
            assert np.array_equal(got[q].view(np.uint32), want.view(np.uint32)), (voxel, q)


@pytest.mark.parametrize("molecules", [10.0, 1.0])
def test_speckle_with_a_per_cell_factor_is_the_speckle_of_the_product(molecules):
    """ExM's barcode speckle multiplies by the cell's expression inside the pass: the same bits as
    speckling ``density * lut[index]`` (also where the mean takes the normal quantile)."""
    rng = np.random.default_rng(11)
    d = (rng.random((5, 6, 7)) < 0.4).astype(np.float32)
    lut = rng.lognormal(0.0, 0.3, 4).astype(np.float32)
    lut[3] = 9.0  # means >= 30: the normal quantile, filled outside the kernel
    index = rng.integers(0, 4, d.shape).astype(np.intp)
    starts = (3, -8, 100)
    want = labelling.speckle(5, d * lut[index], starts, 2, molecules, (0.5, 300.0))
    got = labelling.speckle(5, d, starts, 2, molecules, (0.5, 300.0), (lut, index))
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(labelling.cell_expression(7, index, 2, 0.3, 0.1),
                          labelling.cell_table(7, np.arange(4), 2, 0.3, 0.1)[index])


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_exm_detector_pass_is_the_numpy_steps(dtype):
    """ExM's compiled detector (gain by round, background, shot and read noise, gain, offset,
    digitizing) against its numpy steps: random signals, means under the exact-Poisson threshold
    (the numpy steps run), and read-noise values that put counts on .5 ties."""
    import scanners
    from scanners.base import to_dtype
    from scanners.exm_kernel import detect
    from scanners.noise import poisson_from_normal

    s = scanners.make_scanner({"preset": "exm_lightsheet", "dtype": dtype, "offset_adu": 0.0})
    rng = np.random.default_rng(12)
    img = rng.exponential(200.0, (6, 9, 8)).astype(np.float32)[:, 1:, ::2]  # a strided view, as blur returns
    for ch in (0, 6):
        got = s._detect(img, ch, np.random.SeedSequence(4), (3, 0, 8))
        assert got.dtype == np.dtype(dtype)
        assert np.array_equal(got, s._detect_plain(img, ch, np.random.SeedSequence(4), (3, 0, 8)))
    low = scanners.make_scanner({"preset": "exm_lightsheet", "dtype": dtype, "background_photons": 1.0})
    dark = np.zeros((2, 3, 4), np.float32)  # means of 1 photon: the exact inverse CDF, numpy steps
    assert np.array_equal(low._detect(dark, 1, np.random.SeedSequence(1), (0, 0, 0)),
                          low._detect_plain(dark, 1, np.random.SeedSequence(1), (0, 0, 0)))
    # ties: integer counts plus read noise of k + 0.5, gain 1, offset 100
    zp = rng.standard_normal(img.shape).astype(np.float32)
    zr = rng.integers(-3, 3, img.shape).astype(np.float32) + np.float32(0.5)
    f32 = np.float32
    args = (f32(0.97), f32(20.0), f32(1.0), f32(1.0), f32(100.0), f32(12.0), f32(1.0), f32(1.0 / 6.0))
    as_f, as_u, ok = detect(img, zp, zr, *args, dtype == "uint16")
    plain = poisson_from_normal(img * args[0] + args[1], zp)
    plain += args[2] * zr
    want = to_dtype(plain * args[3] + args[4], np.dtype(dtype))
    assert ok and np.array_equal(as_u if dtype == "uint16" else as_f, want)
    dim = (args[0], f32(1.0)) + args[2:]  # 1 photon of background, no signal: below 12, not handled here
    assert not detect(dark, zp[:2, :3, :4], zr[:2, :3, :4], *dim, True)[2]


def test_exm_raster_box_is_what_the_warp_reads():
    """ExM rasterizes only ``warp_reach``'s box: sampling it gives the bits of sampling any larger
    box of the same values (the coordinates shift by an exact integer; no corner is clamped)."""
    from scanners.exm_boxes import warp_reach
    from scanners.warp_kernel import trilinear_shifted

    rng = np.random.default_rng(13)
    m, hw = np.array([7, 9, 8]), np.array([5, 6, 6])
    big = (rng.exponential(1.0, (2,) + tuple(m + 2 * hw)) * (rng.random((2,) + tuple(m + 2 * hw)) < 0.5)).astype(np.float32)
    grid = np.meshgrid(*[np.linspace(0, 1, n) for n in m], indexing="ij")
    ud = np.stack([2.7 * np.sin(3 * grid[0] + d) * np.cos(2 * grid[2]) for d in range(3)]).astype(np.float32)
    shifts = [np.zeros(3, np.float32), np.array([0.4, -1.3, 0.9], np.float32)]
    lo, hi = warp_reach(ud, shifts)
    assert np.all(lo >= -hw) and np.all(hi <= m + hw) and np.all(hi - lo < m + 2 * hw)
    box = big[(slice(None),) + tuple(slice(h + a, h + b) for h, a, b in zip(hw, lo, hi))]
    for sd in shifts:
        want = trilinear_shifted(big, ud, sd, hw.astype(np.float64))
        got = trilinear_shifted(np.ascontiguousarray(box), ud, sd, (-lo).astype(np.float64))
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        for d in range(3):  # the least and greatest corner used lie inside the box, unclamped
            shape = [1, 1, 1]
            shape[d] = -1
            c = (ud[d] + sd[d]).astype(np.float64) + np.arange(m[d], dtype=np.float64).reshape(shape) - lo[d]
            assert c.min() >= 0 and np.floor(c.max()) + 1 <= hi[d] - lo[d] - 1


def test_sparse_stain_warp_and_blur_are_the_whole_grid_ones():
    """A receptor stain is warped and blurred only around its non-zero voxels: the bits of the
    whole grid's warp and blur, for spots inside, at the grid's edges, none, and a dense channel."""
    from scanners.chunking import gaussian_halo
    from scanners.exm_boxes import blur_sparse, warp_sparse
    from scanners.psf import blur
    from scanners.warp_kernel import trilinear_shifted

    rng = np.random.default_rng(14)
    m, hw = np.array([12, 30, 26]), np.array([4, 5, 5])
    raw_shape = tuple(m + 2 * hw)
    grid = np.meshgrid(*[np.linspace(0, 1, n) for n in m], indexing="ij")
    ud = np.stack([2.2 * np.sin(3 * grid[1] + d) * np.cos(2 * grid[2]) for d in range(3)]).astype(np.float32)
    ud_range = [(ud[d].min(), ud[d].max()) for d in range(3)]
    sd, off = np.array([0.3, -0.8, 1.1], np.float32), hw.astype(np.float64)
    sigma = (0.88, 0.85, 1.3)
    hb = np.array(gaussian_halo(sigma))
    inner = tuple(slice(h, n - h) for h, n in zip(hb, m))
    spots = [[(9, 14, 20)], [tuple(hw + (0, 1, 1)), tuple(hw + m - (1, 2, 20))], []]  # inside, at the edges, none
    for points in spots:
        values = np.zeros(raw_shape, np.float32)
        for p in points:
            values[p] = rng.uniform(1, 50)
        warped, region = warp_sparse(values, ud, sd, off, ud_range)
        assert np.prod([q - p for p, q in region]) < 0.5 * warped.size
        want = trilinear_shifted(values[None], ud, sd, off)[0]
        assert np.array_equal(warped.view(np.uint32), want.view(np.uint32))
        assert np.array_equal(blur_sparse(warped, sigma, hb, inner, region).view(np.uint32),
                              blur(want, sigma, inner).view(np.uint32))
    dense = rng.uniform(0, 1, raw_shape).astype(np.float32)
    assert warp_sparse(dense, ud, sd, off, ud_range) is None


@pytest.mark.parametrize("sigma", [(0.88, 0.85, 0.85), (1.3, 0.0, 2.2), (0.1, 0.9, 0.6)])
def test_compiled_gaussian_passes_are_scipys(sigma):
    """ExM's compiled blur (lines side by side, SciPy's float64 sums in its order) against
    ``scanners.psf.blur`` (``scipy.ndimage.gaussian_filter1d`` per axis): the same bits, axes with
    no blur and a radius-0 kernel included; an inner box closer to the edge than the kernel's
    radius is left to SciPy (None)."""
    from scanners.chunking import gaussian_halo
    from scanners.exm_kernel import blur_inner
    from scanners.psf import TRUNCATE, blur

    rng = np.random.default_rng(15)
    h = gaussian_halo(sigma)
    img = rng.exponential(50.0, (7 + 2 * h[0], 9 + 2 * h[1], 11 + 2 * h[2])).astype(np.float32)
    img[rng.random(img.shape) < 0.5] = 0.0
    inner = tuple(slice(a, n - a) for a, n in zip(h, img.shape))
    got = blur_inner(img, sigma, inner, TRUNCATE)
    assert np.array_equal(got.view(np.uint32), blur(img, sigma, inner).view(np.uint32))
    if max(h) > 0:
        ax = int(np.argmax(h))
        near = tuple(slice(s.start - 1, s.stop) if d == ax else s for d, s in enumerate(inner))
        assert blur_inner(img, sigma, near, TRUNCATE) is None
