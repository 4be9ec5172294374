"""ExM baseline: barcode decoding for segmentation; receptor puncta for synapses.

1. Each barcode channel is denoised and thresholded into on/off (Otsu, but at least ``ON_SNR``
   robust noise deviations above the channel's median); a voxel's bit string is its barcode.
   Cells express exactly ``k`` of ``N`` proteins, so bit strings with the most
   common popcount are kept as segment ids.  The cell mask is where the summed barcode signal
   exceeds ``MASK_FRACTION`` of its Otsu threshold (low, so that blurred boundaries and thin
   processes are in); every mask voxel that did not decode takes the nearest decoded label
   within ``FILL_NM`` (anisotropic distance): an unassigned voxel inside a cell costs more than
   a boundary voxel given to a neighbour.  Where two cells touch, their blurred barcodes add up
   and thin shells read a blend of both codes; a small piece whose code lies within the union of
   two codes it touches goes to its nearest neighbours (:func:`drop_mixed_pieces`).
2. Each receptor-stain channel is matched-filtered with the expected punctum (the published PSF
   and a small PSD, :mod:`pretty_printer.reconstruct.puncta`); local maxima above ``PUNCTA_SNR``
   times the filtered image's own noise at their voxel (larger at the block faces) are puncta.
   Puncta of different receptor channels closer than ``MERGE_PUNCTA_NM`` are one synapse.
3. The postsynaptic segment is the one under the punctum (receptors sit in the PSD); the
   presynaptic segment is the other segment with the most voxels near it, weighted by distance
   (``PARTNER_SIGMA_NM``) within ``PARTNER_RADIUS_NM``, and the presynaptic site is its voxel
   nearest to the punctum (:func:`partners`).
4. Receptor counts are the punctum's background-subtracted signal summed (unclipped, so noise
   averages out) over a box of half-width ``INTEGRATE_NM`` (the blurred punctum is ~150 nm wide:
   a 75 nm box caught about half of it on ``tiny``), divided by the scanner's photons per receptor
   (a calibration the experimenter knows from the antibody) and by the round's bleaching gain;
   conductance is counts times each receptor's unit conductance; the sign follows the receptor
   (AMPA/NMDA: excitatory, GABA_A: inhibitory).
5. Stochastic labelling (the scanner's public settings say how much): with sparse labelling
   (``labelling_fraction`` f < 1) the denoising width grows as f^(-1/3), so each smoothing volume
   holds as many labelled molecules as a fully labelled stain's; with barcode gaps
   (``barcode_dropout`` > 0) bit strings one short of the common popcount are kept as codes too
   (a cell that lost one protein still reads one consistent code), and a piece of such a short
   code joins the full code whose extra protein it shows dimly (:func:`merge_short_codes`: where
   a cell's weakest protein falls below threshold it would otherwise split in pieces); receptor counts
   are divided by the detection efficiency.  Colliding barcodes are not corrected.
6. Excitability: tonic channel densities per segment unmixed from the channel stains with the
   published PSF (:func:`pretty_printer.reconstruct.stain_unmixing.stain_densities`), each
   read from the segment's largest connected piece (barcodes are not unique: a same-code piece
   apart from it may be another cell).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import ndimage

from pretty_printer.submission.format import Submission
from pretty_printer.reconstruct.barcode_blends import MIXED_PIECE_UM3, drop_mixed_pieces, uint_dtype, unique_inverse
from pretty_printer.reconstruct.excitability import _section_distance
from pretty_printer.reconstruct.exm_synapses import MERGE_PUNCTA_NM, find_puncta, synapse_table
from pretty_printer.reconstruct.puncta import matched_filter, matched_sigma_vox
from pretty_printer.reconstruct.stain_unmixing import stain_densities
from pretty_printer.reconstruct.registry import METHODS

MASK_FRACTION = 0.5
ON_SNR = 5.0
FILL_NM = 400.0
SMOOTH_NM = 20.0  # denoising Gaussian sigma for a fully labelled stain
DIM_BIT_FRACTION = 0.3  # a dim protein's mean signal / its on-threshold (absent: ~0.05, dim: ~0.7)


def _photons(img: np.ndarray, settings: dict) -> np.ndarray:
    """Background-subtracted photons per voxel of one channel (the scanner's public gain, offset
    and background)."""
    offset = float(settings.get("offset_adu", 0.0))
    gain = float(settings.get("gain_adu_per_e", 1.0)) or 1.0
    bg = float(settings.get("background_photons", 0.0))
    out = img.astype(np.float32)  # in place from here: the same float32 operations, one array
    out -= offset
    out /= gain
    out -= bg
    return out


def _channel_signal(img: np.ndarray, settings: dict, sigma_vox) -> np.ndarray:
    photons = _photons(img, settings)
    return ndimage.gaussian_filter(photons, sigma_vox, output=photons)  # 1-D passes line by line: in place is exact


class _Signals:
    """The denoised barcode channels as a sequence, each computed from the raw image when asked.

    :func:`barcode_codes` reads each channel once and :func:`merge_short_codes` once more, so the
    (N, Z, Y, X) float32 stack (48 B a voxel for 12 channels) is never held; each channel costs its
    Gaussian filter twice instead.
    """

    def __init__(self, arr, channels, settings: dict, sigma_vox):
        self.arr, self.channels, self.settings, self.sigma_vox = arr, list(channels), settings, sigma_vox

    def __len__(self) -> int:
        return len(self.channels)

    def __getitem__(self, i: int) -> np.ndarray:
        return _channel_signal(np.asarray(self.arr[self.channels[i]]), self.settings, self.sigma_vox)


def barcode_codes(sig, voxel_nm=(1.0, 1.0, 1.0), *, accept_gaps: bool = False) -> np.ndarray:
    """(N, z, y, x) denoised barcode signal -> uint64 bit-string codes (0 = no cell).

    ``sig`` is an array or a sequence of N (z, y, x) arrays (each read twice); ``voxel_nm``
    scales the fill distance ``FILL_NM`` (rule 1 of the module docstring); ``accept_gaps`` keeps
    codes one bit short of the common popcount (rule 5).
    """
    return _barcode_codes(sig, voxel_nm, accept_gaps=accept_gaps).astype(np.uint64, copy=False)


def _barcode_codes(sig, voxel_nm=(1.0, 1.0, 1.0), *, accept_gaps: bool = False) -> np.ndarray:
    """:func:`barcode_codes` in the smallest unsigned dtype that holds N bits (uint16 for 12).

    One channel of ``sig`` is alive at a time; the sum over channels is accumulated channel by
    channel in ``sig``'s dtype, which is what ``sig.sum(axis=0)`` does over a leading axis.
    """
    from skimage.filters import threshold_otsu

    n = len(sig)
    voxel_nm = np.asarray(voxel_nm, float)
    thresholds = np.full(n, np.inf)
    bits = popcount = total = None
    for i in range(n):
        s = sig[i]
        if total is None:
            bits = np.zeros(s.shape, uint_dtype(2 ** n - 1))
            popcount = np.zeros(s.shape, uint_dtype(n))
            total = np.array(s, copy=True)
        else:
            total += s
        sample = s[:: max(1, s.shape[0] // 8)]
        if float(np.ptp(sample)) <= 0:
            continue  # a blank channel is "off" everywhere
        # Otsu splits "on" from "off"; a protein no cell here expresses has only noise, which
        # Otsu would split in half, so "on" must also clear ON_SNR robust noise deviations
        med = float(np.median(sample))
        noise = float(np.median(np.abs(sample - med))) * 1.4826
        thresholds[i] = max(float(threshold_otsu(sample)), med + ON_SNR * noise)
        on = s > thresholds[i]
        del s
        popcount += on
        on = on.astype(bits.dtype)
        on <<= i
        bits |= on
        del on
    counts = sum(np.bincount(p.ravel(), minlength=n + 1) for p in popcount)  # no int64 copy of the volume
    k = int(np.argmax(counts[1:]) + 1) if counts[1:].any() else 1
    valid = popcount == k
    if k > 1 and accept_gaps:
        valid |= popcount == k - 1
    labels = bits
    labels[~valid] = 0
    sample = total[:: max(1, total.shape[0] // 8)]
    mask = total > MASK_FRACTION * threshold_otsu(sample) if float(np.ptp(sample)) > 0 else popcount > 0
    del total, popcount, sample  # sample is a view of total
    fill = mask
    del mask
    fill &= ~valid
    if fill.any() and valid.any():
        np.logical_not(valid, out=valid)
        # only the indices; the distances are formed section by section, where they are needed
        # (scipy would form them for the whole volume: 44 B a voxel on top of the indices)
        idx = ndimage.distance_transform_edt(valid, sampling=voxel_nm, return_distances=False, return_indices=True)
        del valid
        for z in range(labels.shape[0]):  # sources are decoded voxels, never filled: order is free
            near = fill[z] & (_section_distance(idx, z, voxel_nm, 0.0) <= FILL_NM)
            if near.any():
                labels[z][near] = labels[idx[0, z][near], idx[1, z][near], idx[2, z][near]]
        del idx
    del fill
    labels = merge_short_codes(labels, k, sig, thresholds) if accept_gaps and k > 1 else labels
    return drop_mixed_pieces(labels, voxel_nm) if MIXED_PIECE_UM3 > 0 else labels


def _popcount(codes: np.ndarray) -> np.ndarray:
    return np.array([bin(int(c)).count("1") for c in codes], np.int64)


def merge_short_codes(labels: np.ndarray, k: int, sig: np.ndarray, thresholds) -> np.ndarray:
    """Give each connected piece of a (k-1)-bit code to the k-bit code whose extra protein it
    shows dimly.

    A cell whose weakest protein falls below threshold in thin or dim parts (an axon, a far
    section) reads its own code minus one bit there, so it splits into a full-code piece and
    short-code pieces, which need not touch it inside the block.  A cell that lost a protein
    everywhere (``barcode_dropout``) also reads a short code, but there the missing protein is
    absent, not dim.  So each 6-connected piece of one short code joins the k-bit code present in
    the volume that equals it plus one protein whose mean signal in the piece is at least
    ``DIM_BIT_FRACTION`` of that protein's on-threshold (the brightest such protein; ties:
    smaller code); otherwise it keeps its code.  On ``tiny`` (seed 0) the pieces that were one
    cell's dim part read 0.5-0.8 of the threshold, those of protein-less cells 0.01-0.1.

    Parameters
    ----------
    labels : (Z, Y, X) unsigned integer (uint64, or narrower when the codes fit)
        Bit-string codes, 0 = no cell.
    k : int
        The common popcount.
    sig : (N, Z, Y, X) float, or a sequence of N (Z, Y, X) float arrays
        The denoised barcode signal the codes were read from, photons (each channel read once).
    thresholds : (N,) float
        Each channel's on-threshold, photons (``inf`` for a blank channel).

    Returns
    -------
    (Z, Y, X) of ``labels``' dtype
        The codes with short pieces merged.
    """
    codes, inverse = unique_inverse(labels)
    pc = _popcount(codes)
    full = set(int(c) for c in codes[pc == k])
    comp = np.zeros(labels.shape, np.int64 if labels.size >= 2 ** 31 else np.int32)
    comp_code = [0]
    inverse += 1  # fits: unique_inverse leaves room for one more index
    for j, box in enumerate(ndimage.find_objects(inverse)):
        if box is None or pc[j] != k - 1 or codes[j] == 0:
            continue
        lab, n = ndimage.label(inverse[box] == j + 1)
        comp[box][lab > 0] = lab[lab > 0] + len(comp_code) - 1
        comp_code += [int(codes[j])] * n
    del inverse
    if len(comp_code) == 1 or not full:
        return labels
    # the pieces' voxels only (piece 0, the rest, is never read): each bin sums the same voxels in
    # the same order as a bincount over the whole volume
    at = np.flatnonzero(comp)
    piece = comp.reshape(-1)[at].astype(np.intp)
    del comp
    size = np.maximum(np.bincount(piece, minlength=len(comp_code)), 1)
    level = np.stack([np.bincount(piece, weights=np.asarray(sig[b]).reshape(-1)[at], minlength=len(comp_code))
                      / size / thresholds[b] for b in range(len(sig))], axis=1)  # (pieces, N)
    target = np.zeros(len(comp_code), np.uint64)
    for c in range(1, len(comp_code)):
        options = [(-level[c, b], comp_code[c] | (1 << b)) for b in range(len(sig))
                   if not comp_code[c] >> b & 1 and level[c, b] >= DIM_BIT_FRACTION
                   and comp_code[c] | (1 << b) in full]
        if options:
            target[c] = min(options)[1]
    new = target[piece]
    moved = new > 0
    out = labels.copy()
    out.reshape(-1)[at[moved]] = new[moved]
    return out


def decode_barcodes(sig: np.ndarray, voxel_nm=(1.0, 1.0, 1.0), *, accept_gaps: bool = False) -> np.ndarray:
    """(N, z, y, x) denoised barcode signal -> uint64 compact labels 1..n (0 = no cell).

    :func:`barcode_codes`, renumbered: a segment id need not reveal the barcode.  ``sig`` is an
    array or a sequence of N (z, y, x) arrays.
    """
    labels = _barcode_codes(sig, voxel_nm, accept_gaps=accept_gaps)
    codes, inverse = unique_inverse(labels)
    del labels
    compact = inverse.astype(np.uint64)
    if codes[0] != 0:
        compact += 1
    return compact


def _synapses(arr, rec, settings, voxel_nm) -> list[dict]:
    """Puncta of every receptor channel, clustered into synapses: ``{"p", "counts"}`` each."""
    efficiency = float(settings.get("receptor_detection_efficiency", 1.0)) or 1.0
    photons_per_receptor = (float(settings.get("receptor_photons", 1.0)) or 1.0) * efficiency
    sigma = matched_sigma_vox(settings, voxel_nm)
    puncta = []  # (position index, receptor, count)
    for i, rtype in rec:
        filtered, noise = matched_filter(_photons(np.asarray(arr[i]), settings), sigma)
        for p, integ in find_puncta(filtered, noise, voxel_nm):
            puncta.append((p, rtype, max(0.0, integ) / photons_per_receptor / _bleach_gain(settings, i)))
    synapses: list[dict] = []
    for p, rtype, count in puncta:
        for s in synapses:
            if np.linalg.norm((s["p"] - p) * voxel_nm) < MERGE_PUNCTA_NM and rtype not in s["counts"]:
                s["counts"][rtype] = count
                break
        else:
            synapses.append({"p": np.asarray(p), "counts": {rtype: count}})
    return synapses


@METHODS.register("baseline:exm")
def reconstruct_exm(ds, modality: str = "exm", *, rng=None) -> Submission:
    info = ds.modality(modality)
    arr, voxel_nm = ds.image(modality)
    voxel_nm = np.asarray(voxel_nm, float)
    origin = np.asarray(info.get("origin_nm", (0, 0, 0)), float)
    settings = info.get("settings", {})
    names = info["channels"]
    fraction = float(settings.get("labelling_fraction", 1.0)) or 1.0
    sigma = [max(0.5, SMOOTH_NM * fraction ** (-1.0 / 3.0) / v) for v in voxel_nm]
    bar = [i for i, c in enumerate(names) if c.startswith("barcode:")]
    rec = [(i, c.split(":", 1)[1]) for i, c in enumerate(names) if c.startswith("receptor:")]
    # the puncta first: they do not depend on the segmentation, whose uint64 labels then need not
    # be held beside the matched filter
    synapses = _synapses(arr, rec, settings, voxel_nm)
    sig = _Signals(arr, bar, settings, sigma)  # each channel filtered when read: no (N, Z, Y, X) stack
    seg = decode_barcodes(sig, voxel_nm, accept_gaps=float(settings.get("barcode_dropout", 0.0)) > 0)
    cols = synapse_table(seg, synapses, voxel_nm, origin)
    sub = Submission(modality=modality, segmentation=seg, synapses=cols, method="baseline:exm")
    return _with_stain_densities(sub, info, arr, voxel_nm, np.asarray(sigma) * voxel_nm)


def _with_stain_densities(sub: Submission, info: dict, arr, voxel_nm, boundary_sigma_nm) -> Submission:
    """``sub`` with ``cells.csv`` densities unmixed from the ``channel:<species>`` stains
    (:func:`pretty_printer.reconstruct.stain_unmixing.stain_densities`; the segment boundaries
    are uncertain by the barcode denoising width); unchanged without stains."""
    from dataclasses import replace

    settings = info.get("settings", {})
    stained = [(i, c.split(":", 1)[1]) for i, c in enumerate(info["channels"]) if c.startswith("channel:")]
    if not stained or not np.any(sub.segmentation):
        return sub
    stains = _LazyChannels(arr, {name: i for i, name in stained})  # one raw stain in memory at a time
    gains = {name: _bleach_gain(settings, i) for i, name in stained}
    cols = stain_densities(np.asarray(sub.segmentation), stains, settings, gains, voxel_nm, boundary_sigma_nm)
    return replace(sub, cells=cols)


class _LazyChannels(Mapping):
    """Name -> a channel of the raw image, read when asked (a mapping of names to indices)."""

    def __init__(self, arr, index: dict):
        self.arr, self.index = arr, index

    def __getitem__(self, name) -> np.ndarray:
        return np.asarray(self.arr[self.index[name]])

    def __iter__(self):
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


def _bleach_gain(settings: dict, channel: int) -> float:
    """Signal left after bleaching in the rounds before channel ``channel`` was imaged."""
    per_round = int(settings.get("channels_per_round", 1)) or 1
    return (1.0 - float(settings.get("bleach_per_round", 0.0))) ** (channel // per_round)
