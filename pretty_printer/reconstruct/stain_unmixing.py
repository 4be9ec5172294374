"""Channel densities per segment from ExM channel stains, by least-squares unmixing.

A channel stain marks each cell's own membrane; the optics blur it, so near a boundary half of a
cell's photons land on its neighbour's side.  Summing photons per segment (nearest segment)
therefore mixes each cell with its neighbours: a cell with a dense stain reads low, a cell with
none reads the mean of its neighbours.  Here the image is instead modelled as it was made:

    photons / (channel_photons x bleach gain) = B(sum_i d_i F_i) + noise,

where ``F_i`` is segment ``i``'s membrane area per voxel (its voxel faces on a label boundary,
times the staircase correction :data:`~pretty_printer.reconstruct.excitability.SURFACE_CORRECTION`),
``B`` is the scanner's published PSF (Gaussian, FWHM ``psf_fwhm_nm / expansion_factor`` in tissue
nm), widened in quadrature by how far the segmentation's boundaries may stray from the membrane
(for the ExM baseline: its barcode denoising width; on ``tiny`` seed 0 this moved the circuit
cells' densities from 0.67-0.92 of the truth to 0.84-1.12), and ``d_i`` the density, pS/um^2.
The densities solve the normal equations ``F^T B^T B F d = F^T B^T y`` by conjugate
gradients (``UNMIX_ITERATIONS`` steps; ``B`` is symmetric), then are clipped at 0.  This is
linear spatial unmixing with a known point spread function (e.g. Lawson & Hanson, *Solving
Least Squares Problems*, 1974, ch. 23 for the non-negative variant; here a clip replaces the
constraint).  Signal in unassigned space is left
unexplained rather than given to a nearby segment.

A density below ``DETECTION_SE`` standard errors is reported as 0: the stain cannot tell it
from none (the 3-sigma limit of detection, IUPAC, *Compendium of Analytical Nomenclature*,
1997).  The standard error is the background's (shot and read) noise per voxel divided by the
norm of the segment's blurred membrane map, taken for a flat membrane of area ``A``:
``||B F||^2 = V A / (2 sqrt(pi) sigma)`` (voxel volume ``V``, blur sigma ``sigma`` across the
membrane, here the geometric mean of the three axes).  On ``tiny`` (seeds 1 and 2, circuit cells)
it is ~0.0004 mS/cm^2; the unmixed densities of channels a cell does not carry were 0-2.1
standard errors (read as a tonic conductance, up to a quarter of the default cell's rheobase
drive), those it carries 4.6-169.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse.linalg import LinearOperator, cg

from phantoms.channels import CHANNEL_SPECIES
from phantoms.raster_channels import PS_UM2_PER_MS_CM2
from pretty_printer.reconstruct.barcode_blends import label_by_value, unique_inverse
from pretty_printer.reconstruct.excitability import SURFACE_CORRECTION

UNMIX_ITERATIONS = 60
DETECTION_SE = 3.0  # a density under 3 standard errors of the stain's noise is reported as 0
MIN_PIECE_UM2 = 1.0  # a same-code component with less membrane is read with the segment's largest
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def face_area_um2(seg: np.ndarray, voxel_nm) -> np.ndarray:
    """Membrane area each labelled voxel carries, um^2: its faces on a label boundary x 2/3.

    Parameters
    ----------
    seg : (Z, Y, X) integer labels, 0 = unassigned.
    voxel_nm : (3,) float

    Returns
    -------
    (Z, Y, X) float64
        0 in unassigned voxels and inside segments; the sum over a segment is its membrane area
        (voxel faces on a label boundary, times the staircase correction).
    """
    out = np.empty(seg.shape, np.float64)
    for z in range(seg.shape[0]):
        out[z] = _face_area_section(seg, z, voxel_nm)
    return out


def _membrane(seg: np.ndarray, voxel_nm) -> tuple[np.ndarray, np.ndarray]:
    """Where :func:`face_area_um2` is positive, and its values there in C order, formed section by
    section (no float64 volume): ``(F > 0, F[F > 0])``."""
    where = np.empty(seg.shape, bool)
    f = []
    for z in range(seg.shape[0]):
        a = _face_area_section(seg, z, voxel_nm)
        where[z] = a > 0
        f.append(a[where[z]])
    return where, (np.concatenate(f) if f else np.zeros(0))


def _areas(labels: np.ndarray, where: np.ndarray, f: np.ndarray, minlength: int) -> np.ndarray:
    """``np.bincount(labels.ravel(), weights=face_area_um2(...).ravel(), minlength)`` from the
    membrane voxels alone: the other voxels add 0.0, which leaves every sum as it is."""
    return np.bincount(labels[where].astype(np.intp, copy=False), weights=f, minlength=minlength)


def _face_area_section(seg: np.ndarray, z: int, voxel_nm) -> np.ndarray:
    """Section ``z`` of :func:`face_area_um2`: each voxel's faces added in the same order (the
    section below, above, then along y, then along x), so the same float64 sums."""
    vz, vy, vx = (float(v) for v in voxel_nm)
    s = seg[z]
    o = np.zeros(s.shape, np.float64)
    if z > 0:
        np.add(o, vy * vx, out=o, where=s != seg[z - 1])
    if z < seg.shape[0] - 1:
        np.add(o, vy * vx, out=o, where=s != seg[z + 1])
    for axis, face in ((0, vz * vx), (1, vz * vy)):
        a, b = np.moveaxis(s, axis, 0), np.moveaxis(o, axis, 0)
        diff = a[1:] != a[:-1]
        np.add(b[1:], face, out=b[1:], where=diff)
        np.add(b[:-1], face, out=b[:-1], where=diff)
    o[s == 0] = 0.0
    o *= SURFACE_CORRECTION
    o *= 1e-6
    return o


def unmix_densities(seg: np.ndarray, pS_image: np.ndarray, voxel_nm, sigma_vox, pieces=None, *,
                    overwrite_input: bool = False) -> dict[int, float]:
    """Each segment's (or piece's) stain density (pS/um^2) from a background-subtracted stain image.

    Parameters
    ----------
    seg : (Z, Y, X) integer labels, 0 = unassigned.
    pS_image : (Z, Y, X) float
        Background-subtracted photons divided by photons per pS and by the bleaching gain: the
        blurred pS per voxel.
    voxel_nm : (3,) float
    sigma_vox : (3,) float
        The PSF's Gaussian sigma, voxels.
    pieces : (Z, Y, X) integer labels, optional
        A finer labelling inside ``seg`` (each piece within one segment): one density per piece.
        The membrane is still where ``seg``'s labels change.  Default: ``seg`` itself.
    overwrite_input : bool
        If ``pS_image`` is float64, blur it in place (saves a float64 copy of the volume).

    Returns
    -------
    dict
        Segment (or piece) id -> density, pS/um^2, >= 0; only those with a boundary face.
    """
    unknown = seg if pieces is None else pieces
    where, f = _membrane(seg, voxel_nm)
    ids = np.unique(unknown[where]).astype(np.int64)
    if ids.size == 0:
        return {}
    k = np.searchsorted(ids, unknown[where].astype(np.int64))

    def paint(d):
        img = np.zeros(seg.shape, np.float64)
        img[where] = d[k] * f
        return img

    def gather(img):
        return np.bincount(k, weights=img[where] * f, minlength=ids.size)

    def blur(img):  # in place: the 1-D passes go line by line, so the result is the same
        return ndimage.gaussian_filter(img, sigma_vox, output=img, mode="constant")

    op = LinearOperator((ids.size, ids.size), matvec=lambda d: gather(blur(blur(paint(d)))), dtype=np.float64)
    y = np.asarray(pS_image, np.float64)
    if y is pS_image and not overwrite_input:
        y = y.copy()
    del pS_image  # a temporary passed by the caller is freed with y, before the iterations
    rhs = gather(blur(y))
    del y
    d, _ = cg(op, rhs, maxiter=UNMIX_ITERATIONS)
    return {int(i): float(max(v, 0.0)) for i, v in zip(ids, d)}


def stain_densities(seg: np.ndarray, stains: dict[str, np.ndarray], settings: dict,
                    gains: dict[str, float], voxel_nm, boundary_sigma_nm=(0.0, 0.0, 0.0)) -> dict[str, np.ndarray]:
    """``cells.csv`` columns (``segment_id`` and mS/cm^2 per stained species) by unmixing.

    Each segment's density is its largest piece's (:func:`component_pieces`): a segment is one
    barcode, and barcodes are not unique, so a same-code piece apart from the rest may be another
    cell.

    Parameters
    ----------
    seg : (Z, Y, X) uint64
    stains : mapping
        Species name -> (Z, Y, X) raw image (ADU); read once each, one at a time.
    settings : dict
        The scanner's public settings: ``offset_adu``, ``gain_adu_per_e``,
        ``background_photons``, ``channel_photons`` (per pS), ``psf_fwhm_nm``,
        ``expansion_factor``.
    gains : dict
        Species name -> signal fraction left after bleaching in earlier rounds.
    voxel_nm : (3,) float
    boundary_sigma_nm : (3,) float
        How far the segmentation's boundaries may lie from the true membrane (Gaussian sigma,
        nm); added in quadrature to the PSF's sigma, so a shifted boundary still collects its
        cell's photons.  0 for an exact segmentation.

    Returns
    -------
    dict
        ``segment_id`` (every labelled segment) and one column per species (0 where a segment has
        no boundary face, and under ``DETECTION_SE`` standard errors of its largest piece).
    """
    voxel_nm = np.asarray(voxel_nm, float)
    offset = float(settings.get("offset_adu", 0.0))
    adu = float(settings.get("gain_adu_per_e", 1.0)) or 1.0
    bg = float(settings.get("background_photons", 0.0))
    per_pS = float(settings.get("channel_photons", 1.0)) or 1.0
    fwhm = np.asarray(settings.get("psf_fwhm_nm", (0.0, 0.0, 0.0)), float)
    fwhm = fwhm / (float(settings.get("expansion_factor", 1.0)) or 1.0)
    sigma = np.hypot(fwhm / FWHM_PER_SIGMA, np.asarray(boundary_sigma_nm, float)) / voxel_nm
    ids = _nonzero_ids(seg)
    cols = {"segment_id": ids}
    pieces, segment_of, main = component_pieces(seg, voxel_nm)
    where, f = _membrane(seg, voxel_nm)
    area = _areas(pieces, where, f, segment_of.size)
    del where, f
    main_of = dict(zip(segment_of[main].tolist(), main.tolist()))  # segment -> its largest piece
    read = np.array([main_of.get(int(i), 0) for i in ids])
    noise_photons = np.sqrt(bg + float(settings.get("read_noise_e", 0.0)) ** 2)
    for name in stains:  # one stain read at a time if ``stains`` reads lazily
        # the pS image passed as a temporary, so that unmix_densities frees it once blurred
        d = unmix_densities(seg, _pS_image(stains[name], offset, adu, bg, per_pS * gains.get(name, 1.0)),
                            voxel_nm, sigma, pieces, overwrite_input=True)
        d = np.array([d.get(int(p), 0.0) for p in read])
        se = density_standard_error(area[read], noise_photons / (per_pS * gains.get(name, 1.0)), voxel_nm, sigma)
        cols[CHANNEL_SPECIES[name].column] = np.where(d >= DETECTION_SE * se, d, 0.0) / PS_UM2_PER_MS_CM2
    return cols


def _pS_image(img, offset: float, adu: float, bg: float, per_pS: float) -> np.ndarray:
    """``((img - offset) / adu - bg) / per_pS`` in float64, in place on one copy (the same operations)."""
    y = np.array(img, np.float64)
    y -= offset
    y /= adu
    y -= bg
    y /= per_pS
    return y


def density_standard_error(area_um2, noise_pS, voxel_nm, sigma_vox) -> np.ndarray:
    """Standard error of an unmixed density, pS/um^2, for segments of membrane area ``area_um2``.

    ``noise_pS`` is the stain's noise per voxel in blurred pS; the segment is taken as a flat
    membrane blurred by a Gaussian of the geometric-mean sigma (``sigma_vox``, voxels), so the
    squared norm of its blurred membrane map is ``V A / (2 sqrt(pi) sigma)`` (``V`` the voxel
    volume, um^3).  Infinite for a segment without membrane.
    """
    voxel_um = np.asarray(voxel_nm, float) * 1e-3
    sigma_um = float(np.prod(np.asarray(sigma_vox, float) * voxel_um) ** (1.0 / 3.0))
    norm2 = np.prod(voxel_um) * np.asarray(area_um2, float) / (2.0 * np.sqrt(np.pi) * sigma_um)
    with np.errstate(divide="ignore"):
        return np.where(norm2 > 0, noise_pS / np.sqrt(np.maximum(norm2, 1e-300)), np.inf)



def _nonzero_ids(seg: np.ndarray) -> np.ndarray:
    """``np.unique(seg[seg > 0])`` as int64, section by section."""
    codes = np.unique(np.concatenate([np.unique(s) for s in seg])) if seg.ndim and len(seg) else np.unique(seg)
    return codes[codes > 0].astype(np.int64)


def component_pieces(seg: np.ndarray, voxel_nm, min_area_um2: float = MIN_PIECE_UM2):
    """Cut each segment into its 6-connected components, each read as its own unknown.

    A component with less than ``min_area_um2`` of membrane stays with the segment's largest
    component (by volume): a fragment that small would get a density from a handful of voxels.

    Parameters
    ----------
    seg : (Z, Y, X) integer labels, 0 = unassigned.
    voxel_nm : (3,) float
    min_area_um2 : float

    Returns
    -------
    pieces : (Z, Y, X) int32 (int64 from 2**31 pieces on)
        Piece labels 1..n, 0 where ``seg`` is 0.
    segment_of : (n + 1,) int64
        Each piece's segment (``segment_of[0] = 0``).
    main : (number of segments,) int64
        Each segment's largest piece, in increasing segment order.
    """
    ids = _nonzero_ids(seg)
    codes, inverse = unique_inverse(seg)  # = np.where(seg > 0, searchsorted(ids, seg) + 1, 0)
    if codes[0] != 0:
        inverse += 1
    comp = label_by_value(inverse)  # = skimage's label(inverse, background=0, connectivity=1), int32
    del inverse
    n = int(comp.max())
    seg_of = np.zeros(n + 1, np.int64)
    for c, s in zip(comp, seg):  # section by section: no int64 copy of the volume
        seg_of[c.ravel()] = s.ravel()
    vol = sum(np.bincount(c.ravel(), minlength=n + 1) for c in comp)  # counts: exact in any order
    where, f = _membrane(seg, voxel_nm)
    area = _areas(comp, where, f, n + 1)
    del where, f
    by_segment = np.lexsort((np.arange(n), seg_of[1:])) + 1  # components by segment, then scan order
    by_size = np.lexsort((np.arange(n), -vol[1:], seg_of[1:])) + 1
    largest = by_size[np.r_[True, seg_of[by_size][1:] != seg_of[by_size][:-1]]]  # ties: first found
    own = area >= min_area_um2
    own[largest] = True
    own[0] = False
    kept = by_segment[own[by_segment]]
    piece_of = np.zeros(n + 1, np.int32 if n < 2 ** 31 else np.int64)  # 4 B a voxel in the image
    piece_of[kept] = np.arange(1, kept.size + 1)
    main = piece_of[largest].astype(np.int64)  # in increasing segment order, like ids
    small = np.flatnonzero(~own[1:]) + 1
    piece_of[small] = main[np.searchsorted(ids, seg_of[small])]
    return piece_of[comp], np.r_[0, seg_of[kept]], main
