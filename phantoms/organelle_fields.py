"""Rasterizer hooks for ultrastructure: synapse types, vesicle shapes, organelles, semantic classes.

Kept apart from :mod:`phantoms.rasterize` (which calls these with its grid helpers) so that the
cell rasterizer stays small.  Every per-voxel decision uses the voxel's own coordinates, and each
hook tests only the objects whose bounding boxes meet the box.

Synapse types (Gray 1959; Peters, Palay & Webster, *The Fine Structure of the Nervous System*,
1991; Colonnier 1968): glutamatergic synapses are *asymmetric* (Gray type I: a thick
post-synaptic density, 30-50 nm, round vesicles ~40 nm); GABAergic ones *symmetric* (Gray type
II: thin densities on both sides, ~10-20 nm, flattened or pleomorphic vesicles, axis ratio ~0.6).
Both have a thin pre-synaptic density (active zone) of ``PRE_DENSITY_NM``.  Where ``cfg.tbar`` is
set (the fly), each release site (a bouton's contacts, :func:`release_sites`) also carries a
presynaptic T-bar, drawn into the ``psd`` (synaptic density) field.  A synapse is GABAergic
when its presynaptic cell is inhibitory in the circuit (Dale's law); for cells outside the
circuit, when its GABA_A receptors outnumber its glutamate receptors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .phantom import Phantom

# Presynaptic T-bars of insect active zones (Drosophila): an electron-dense pedestal standing on
# the presynaptic membrane, capped by a platform; about 70 nm tall, the platform ~150-200 nm
# across (Fouquet et al. 2009 J Cell Biol 186:129; Wichmann & Sigrist 2010 J Neurogenet 24:133)
TBAR_PEDESTAL_NM = 50.0  # pedestal height
TBAR_PEDESTAL_RADIUS_NM = 25.0
TBAR_PLATFORM_NM = 20.0  # platform thickness (pedestal + platform ~70 nm)
TBAR_PLATFORM_RADIUS_NM = 80.0

ORGANELLE_FIELDS = ("mito", "nucleus", "organelle_membrane", "organelles")
SEMANTIC_CLASSES = ("extracellular", "neuron", "glia", "mitochondrion", "nucleus", "vesicle", "psd", "cleft")
TYPE_II_PSD_NM = 12.0  # symmetric synapse: thin post-synaptic density
PRE_DENSITY_NM = 10.0  # active-zone density on the bouton membrane (both types)
TYPE_II_VESICLE_AXIS_RATIO = 0.6  # flattened vesicles: short axis / long axis


@dataclass(frozen=True)
class SynapseGeometry:
    u: np.ndarray  # (S, 3) unit vector post -> pre
    gap: np.ndarray  # (S,) cleft width, nm
    radius: np.ndarray  # (S,) PSD disc radius
    psd_nm: np.ndarray  # (S,) post-synaptic density thickness (by type)
    pre_density_nm: np.ndarray  # (S,)
    inhibitory: np.ndarray  # (S,) bool
    lo: np.ndarray  # (S, 3) bounding box of everything drawn for the synapse
    hi: np.ndarray


@dataclass(frozen=True)
class VesicleGeometry:
    flatten: np.ndarray  # (V,) short/long axis ratio (1 = round)
    axis: np.ndarray  # (V, 3) unit short axis
    lo: np.ndarray
    hi: np.ndarray


def _cached(ph: Phantom, name: str, build):
    v = ph.__dict__.get(name)
    if v is None:
        v = build(ph)
        object.__setattr__(ph, name, v)
    return v


def synapse_inhibitory(ph: Phantom) -> np.ndarray:
    """(S,) bool: GABAergic (Gray type II) synapses (see the module doc for the rule)."""
    S = ph.synapses
    excit = {c.id: c.excitatory for c in ph.spec.cells}
    out = np.zeros(len(S), bool)
    for i, pre in enumerate(S["pre_cell"].tolist()):
        if pre in excit:
            out[i] = not excit[pre]
        else:
            out[i] = S["n_GABA_A"][i] > S["n_AMPA"][i] + S["n_NMDA"][i]
    return out


def _synapse_geometry(ph: Phantom) -> SynapseGeometry:
    S = ph.synapses
    post, pre = S.post_nm, S.pre_nm
    d = pre - post
    gap = np.linalg.norm(d, axis=1)
    u = d / np.where(gap > 0, gap, 1.0)[:, None]
    r = np.sqrt(np.asarray(S["psd_area_nm2"], float) / np.pi)
    inh = synapse_inhibitory(ph)
    psd = np.where(inh, TYPE_II_PSD_NM, float(ph.cfg.psd_thickness_nm))
    pre_d = np.full(len(S), PRE_DENSITY_NM)
    depth = np.maximum(psd, float(ph.cfg.psd_thickness_nm))
    ext = np.sqrt((gap + pre_d + depth) ** 2 + r * r)[:, None] + 1.0
    return SynapseGeometry(u, gap, r, psd, pre_d, inh, np.minimum(post, pre) - ext, np.maximum(post, pre) + ext)


def synapse_geometry(ph: Phantom) -> SynapseGeometry:
    return _cached(ph, "_synapse_geometry", _synapse_geometry)


def _vesicle_geometry(ph: Phantom) -> VesicleGeometry:
    V = np.asarray(ph.vesicles_nm, float).reshape(-1, 4)
    inh = synapse_inhibitory(ph)
    index = {int(s): i for i, s in enumerate(ph.synapses["id"].tolist())}
    vinh = np.array([inh[index[int(s)]] if int(s) in index else False for s in ph.vesicle_synapse], bool)
    # orientation of each flattened vesicle: a hash of its index, so no generator is consumed
    k = np.arange(len(V), dtype=np.float64)
    theta = np.arccos(1.0 - 2.0 * np.modf(np.sin(k * 12.9898 + 1.0) * 43758.5453)[0] ** 2)
    phi = 2 * np.pi * np.abs(np.modf(np.sin(k * 78.233 + 2.0) * 24634.6345)[0])
    axis = np.stack([np.cos(theta), np.sin(theta) * np.sin(phi), np.sin(theta) * np.cos(phi)], axis=1)
    r = V[:, 3:4]
    return VesicleGeometry(np.where(vinh, TYPE_II_VESICLE_AXIS_RATIO, 1.0), axis, V[:, :3] - r, V[:, :3] + r)


def vesicle_geometry(ph: Phantom) -> VesicleGeometry:
    return _cached(ph, "_vesicle_geometry", _vesicle_geometry)


# ``_Grid.window(lo, hi)`` (and ``raster_kernels._span``) takes voxels ``i0 .. i1 - 1`` with
# ``i0 = floor((lo - o) / v - 0.5)`` and ``i1 - 1 = ceil((hi - o) / v + 0.5)``: centres from up to 1
# voxel below ``lo`` to up to 2 above ``hi``.  In a box of ``n`` voxels that window is non-empty
# only if ``lo < o + (n + 0.5) v`` and ``hi > o - 1.5 v``: ``[lo, hi]`` meets the box padded by 2 voxels.
WINDOW_REACH_VOXELS = 2.0


def meeting(lo: np.ndarray, hi: np.ndarray, g, windows: bool = False) -> np.ndarray:
    """Indices of the boxes ``[lo, hi]`` that meet the grid's box (the per-chunk prefilter).

    ``windows``: the objects paint their whole window ``g.window(lo[i], hi[i])`` (synapse discs,
    T-bars: voxels found by the cells' depths, not bounded by ``[lo, hi]``), so the grid's box is
    padded by the window's reach, ``WINDOW_REACH_VOXELS``: an object is kept wherever its window
    holds a voxel of the box, and a box cut into pieces paints what the whole box does.  Without
    it the test is exact only for objects that paint voxel centres inside ``[lo, hi]`` alone
    (vesicles, organelles).
    """
    if len(lo) == 0:
        return np.zeros(0, np.int64)
    from .packing_kernel import boxes_meeting

    box_lo, box_hi = window_box(g.origin, g.origin + np.asarray(g.shape) * g.voxel, g.voxel, windows)
    return boxes_meeting(lo, hi, box_lo, box_hi)


def window_box(box_lo: np.ndarray, box_hi: np.ndarray, voxel: np.ndarray, windows: bool = True):
    """``(lo, hi)``: a box's bounds, padded by ``WINDOW_REACH_VOXELS`` voxels when ``windows``
    (see :func:`meeting`); rows of 3 or (K, 3)."""
    if not windows:
        return box_lo, box_hi
    pad = WINDOW_REACH_VOXELS * np.asarray(voxel, float)
    return box_lo - pad, box_hi + pad


@dataclass(frozen=True)
class TbarGeometry:
    base: np.ndarray  # (T, 3) on the bouton membrane, nm
    u: np.ndarray  # (T, 3) unit vector from the membrane into the bouton
    pre_cell: np.ndarray  # (T,)
    lo: np.ndarray
    hi: np.ndarray


def release_sites(ph: Phantom) -> tuple[np.ndarray, np.ndarray]:
    """Group synapses by presynaptic release site: ``(site index per row (S,), first row per site)``.

    Rows sharing a presynaptic cell and a bouton centre are one bouton's contacts: one active
    zone (one T-bar in the fly), several partners when the contact is polyadic.
    """
    S = ph.synapses
    key = np.stack([np.asarray(S["pre_cell"], float), S["bouton_z_nm"], S["bouton_y_nm"], S["bouton_x_nm"]], 1)
    if not len(key):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


def _tbar_geometry(ph: Phantom) -> TbarGeometry:
    S = ph.synapses
    if not (getattr(ph.cfg, "tbar", False) and len(S)):
        z = np.zeros((0, 3))
        return TbarGeometry(z, z, np.zeros(0, np.int64), z, z)
    site, first = release_sites(ph)
    bouton = np.stack([S["bouton_z_nm"], S["bouton_y_nm"], S["bouton_x_nm"]], 1)
    toward = S.pre_nm - bouton
    toward /= np.maximum(np.linalg.norm(toward, axis=1, keepdims=True), 1e-9)
    m = np.zeros((len(first), 3))
    np.add.at(m, site, toward)  # the active zone faces its partners on average
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
    base = bouton[first] + m * np.asarray(S["bouton_radius_nm"], float)[first, None]
    ext = np.hypot(TBAR_PEDESTAL_NM + TBAR_PLATFORM_NM, TBAR_PLATFORM_RADIUS_NM) + 1.0
    return TbarGeometry(base, -m, np.asarray(S["pre_cell"])[first], base - ext, base + ext)


def tbar_geometry(ph: Phantom) -> TbarGeometry:
    return _cached(ph, "_tbar_geometry", _tbar_geometry)


def draw_tbars(ph: Phantom, g, psd: np.ndarray, pre_depth) -> None:
    """Set ``psd`` to 1 in every T-bar (pedestal + platform) meeting grid ``g``, inside its bouton.

    ``pre_depth(sl, cid)`` gives cell ``cid``'s depth ``r(t) - d`` on window ``sl``.
    """
    T = tbar_geometry(ph)
    h0, h1 = np.float32(TBAR_PEDESTAL_NM), np.float32(TBAR_PEDESTAL_NM + TBAR_PLATFORM_NM)
    for i in meeting(T.lo, T.hi, g, windows=True):
        sl = g.window(T.lo[i], T.hi[i])
        if sl is None:
            continue
        dz, dy, dx = g.rel(sl, T.base[i])
        u = T.u[i].astype(np.float32)
        axial = dz * u[0] + dy * u[1] + dx * u[2]
        radial2 = dz * dz + dy * dy + dx * dx - axial * axial
        pedestal = (axial >= 0) & (axial < h0) & (radial2 <= np.float32(TBAR_PEDESTAL_RADIUS_NM ** 2))
        platform = (axial >= h0) & (axial <= h1) & (radial2 <= np.float32(TBAR_PLATFORM_RADIUS_NM ** 2))
        psd[sl][(pedestal | platform) & (pre_depth(sl, int(T.pre_cell[i])) > 0)] = 1.0


def _organelles(ph: Phantom):
    from .organelles import Organelles

    return Organelles.from_arrays(ph.organelles) if ph.organelles else Organelles.empty()


def organelles_of(ph: Phantom):
    return _cached(ph, "_organelles_obj", _organelles)


def _organelle_bounds(ph: Phantom, pad: float):
    """``(a, b, r, is_nuc, lo, hi)``: mitochondria then nuclei as round cones, and their boxes
    padded by ``pad`` nm; kept on the phantom per pad (the same arrays for every section)."""
    cache = _cached(ph, "_organelle_bounds", lambda _: {})
    if pad not in cache:
        O = organelles_of(ph)
        a = np.concatenate([O.mito_a, O.nucleus_center])
        b = np.concatenate([O.mito_b, O.nucleus_center])
        r = np.concatenate([O.mito_r, O.nucleus_r])
        is_nuc = np.r_[np.zeros(len(O.mito_r), bool), np.ones(len(O.nucleus_r), bool)]
        lo = np.ascontiguousarray(np.minimum(a, b) - r[:, None] - pad)
        hi = np.ascontiguousarray(np.maximum(a, b) + r[:, None] + pad)
        cache[pad] = (a, b, r, is_nuc, lo, hi)
    return cache[pad]


def organelle_fields(ph: Phantom, g, fields, cone_eval, membrane) -> dict[str, np.ndarray]:
    """``mito``, ``nucleus``, ``organelle_membrane`` and ``organelles`` on grid ``g``."""
    mito = np.zeros(g.shape, np.float32)
    nuc = np.zeros(g.shape, np.float32)
    ids = np.zeros(g.shape, np.uint32)
    want_mem = "organelle_membrane" in fields
    depth = np.full(g.shape, -np.inf, np.float32) if want_mem else None
    pad = (0.5 * float(np.max(g.voxel)) + 1.0) if want_mem else 0.0
    a, b, r, is_nuc, lo, hi = _organelle_bounds(ph, pad)
    idx = meeting(lo, hi, g)
    if len(idx) and a.dtype == b.dtype == r.dtype == np.float64:  # compiled, the same float32 steps
        from .raster_kernels import organelle_fill

        organelle_fill(mito, nuc, ids, depth if want_mem else np.zeros((0, 0, 0), np.float32), *g.centers,
                       g.origin, g.voxel, idx, a, b, r, lo, hi, is_nuc)
    else:
        _organelle_loop(g, idx, (a, b, r, lo, hi, is_nuc), (mito, nuc, ids, depth), cone_eval)
    out = {"mito": mito, "nucleus": nuc, "organelles": ids}
    if want_mem:
        out["organelle_membrane"] = membrane(depth, g, ph.cfg.membrane_nm)
    return out


def _organelle_loop(g, idx, geometry, fields, cone_eval) -> None:
    """:func:`organelle_fields`'s loop with numpy, one organelle at a time (the definition the
    compiled ``organelle_fill`` matches); fills ``fields = (mito, nuc, ids, depth or None)``."""
    a, b, r, lo, hi, is_nuc = geometry
    mito, nuc, ids, depth = fields
    for i in idx:
        sl = g.window(lo[i], hi[i])
        if sl is None:
            continue
        val = cone_eval(g, sl, a[i], b[i], r[i], r[i], True)
        inside = val > 0
        (nuc if is_nuc[i] else mito)[sl][inside] = 1.0
        ids[sl][inside] = i + 1
        if depth is not None:
            np.maximum(depth[sl], val, out=depth[sl])


def glia_ids(ph: Phantom) -> np.ndarray:
    """Ids of glial cells: background cells of class ``glia``, and any ``meta["cell_class"]``
    (``{id: "glia" | "astrocyte" | ...}``) a phantom carries."""
    classes = ph.meta.get("cell_class", {}) if isinstance(ph.meta, dict) else {}
    ids = [int(c) for c, k in classes.items() if str(k).startswith("glia")
           or str(k) in ("astrocyte", "oligodendrocyte", "microglia")]
    ids += [int(c) for c, k in zip(ph.background_ids, ph.background_classes) if k == "glia"]
    return np.array(sorted(set(ids)), np.int64)


def semantic(ph: Phantom, f: dict) -> np.ndarray:
    """uint8 class per voxel (``SEMANTIC_CLASSES``); later classes win where they overlap."""
    lab = f["labels"]
    out = np.where(lab > 0, np.uint8(1), np.uint8(0)).astype(np.uint8)
    gl = glia_ids(ph)
    if gl.size:
        out[np.isin(lab, gl)] = 2
    out[f["mito"] > 0] = 3
    out[f["nucleus"] > 0] = 4
    out[f["vesicles"] > 0] = 5
    out[(f["psd"] > 0) & (lab > 0)] = 6
    out[(f["cleft"] > 0) & (lab == 0)] = 7
    return out
