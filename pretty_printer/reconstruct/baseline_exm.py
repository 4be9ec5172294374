"""ExM baseline: barcode decoding for segmentation; receptor puncta for synapses.

1. Each barcode channel is denoised and thresholded into on/off (Otsu, but at least ``ON_SNR``
   robust noise deviations above the channel's median); a voxel's bit string is its barcode.
   Cells express exactly ``k`` of ``N`` proteins, so bit strings with the most
   common popcount are kept as segment ids.  The cell mask is where the summed barcode signal
   exceeds ``MASK_FRACTION`` of its Otsu threshold (low, so that blurred boundaries and thin
   processes are in); every mask voxel that did not decode takes the nearest decoded label
   within ``FILL_NM`` (anisotropic distance): an unassigned voxel inside a cell costs more than
   a boundary voxel given to a neighbour.
2. Each receptor-stain channel is denoised; local maxima well above background are puncta.
   Puncta of different receptor channels closer than ``MERGE_PUNCTA_NM`` are one synapse.
3. The postsynaptic segment is the one under the punctum (receptors sit in the PSD); the
   presynaptic segment is the most common other segment within ``PARTNER_RADIUS_NM``.
4. Receptor counts are the punctum's integrated, background-subtracted signal divided by the
   scanner's photons per receptor (a calibration the experimenter knows from the antibody);
   conductance is counts times each receptor's unit conductance; the sign follows the receptor
   (AMPA/NMDA: excitatory, GABA_A: inhibitory).
5. Stochastic labelling (the scanner's public settings say how much): with sparse labelling
   (``labelling_fraction`` f < 1) the denoising width grows as f^(-1/3), so each smoothing volume
   holds as many labelled molecules as a fully labelled stain's; with barcode gaps
   (``barcode_dropout`` > 0) bit strings one short of the common popcount are kept as codes too
   (a cell that lost one protein still reads one consistent code); receptor counts are divided by
   the detection efficiency.  Colliding or per-cell dim barcodes are not corrected.
6. Excitability: tonic channel densities per segment from the channel stains
   (:func:`pretty_printer.reconstruct.excitability.densities_from_stains`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import ndimage

from pretty_printer.submission.format import Submission
from pretty_printer.reconstruct.excitability import add_stain_excitability
from pretty_printer.reconstruct.registry import METHODS

MERGE_PUNCTA_NM = 150.0
PARTNER_RADIUS_NM = 200.0
PUNCTA_SNR = 5.0
MASK_FRACTION = 0.5
ON_SNR = 5.0
FILL_NM = 400.0
SMOOTH_NM = 20.0  # denoising Gaussian sigma for a fully labelled stain


def _channel_signal(img: np.ndarray, settings: dict, sigma_vox) -> np.ndarray:
    offset = float(settings.get("offset_adu", 0.0))
    gain = float(settings.get("gain_adu_per_e", 1.0)) or 1.0
    bg = float(settings.get("background_photons", 0.0))
    photons = (img.astype(np.float32) - offset) / gain - bg
    return ndimage.gaussian_filter(photons, sigma_vox)


def decode_barcodes(sig: np.ndarray, voxel_nm=(1.0, 1.0, 1.0), *, accept_gaps: bool = False) -> np.ndarray:
    """(N, z, y, x) denoised barcode signal -> uint64 labels (0 = no cell).

    ``voxel_nm`` scales the fill distance ``FILL_NM`` (rule 1 of the module docstring);
    ``accept_gaps`` keeps codes one bit short of the common popcount (rule 5).
    """
    from skimage.filters import threshold_otsu

    n = sig.shape[0]
    voxel_nm = np.asarray(voxel_nm, float)
    bits = np.zeros(sig.shape[1:], np.uint64)
    popcount = np.zeros(sig.shape[1:], np.int32)
    for i in range(n):
        sample = sig[i][:: max(1, sig.shape[1] // 8)]
        if float(np.ptp(sample)) <= 0:
            continue  # a blank channel is "off" everywhere
        # Otsu splits "on" from "off"; a protein no cell here expresses has only noise, which
        # Otsu would split in half, so "on" must also clear ON_SNR robust noise deviations
        med = float(np.median(sample))
        noise = float(np.median(np.abs(sample - med))) * 1.4826
        on = sig[i] > max(float(threshold_otsu(sample)), med + ON_SNR * noise)
        bits |= on.astype(np.uint64) << np.uint64(i)
        popcount += on
    counts = np.bincount(popcount.ravel(), minlength=n + 1)
    k = int(np.argmax(counts[1:]) + 1) if counts[1:].any() else 1
    valid = (popcount == k) | ((popcount == k - 1) & (k > 1) & accept_gaps)
    labels = np.where(valid, bits, 0).astype(np.uint64)
    total = sig.sum(axis=0)
    sample = total[:: max(1, total.shape[0] // 8)]
    mask = total > MASK_FRACTION * threshold_otsu(sample) if float(np.ptp(sample)) > 0 else popcount > 0
    fill = mask & ~valid
    if fill.any() and valid.any():
        dist, idx = ndimage.distance_transform_edt(~valid, sampling=voxel_nm, return_indices=True)
        near = fill & (dist <= FILL_NM)
        labels[near] = labels[tuple(i[near] for i in idx)]
    # relabel codes to compact ids 1..n (a segment id need not reveal the barcode)
    codes, inverse = np.unique(labels, return_inverse=True)
    compact = inverse.reshape(labels.shape).astype(np.uint64)
    if codes[0] != 0:
        compact += 1
    return compact


def find_puncta(sig: np.ndarray, noise_sd: float, voxel_nm) -> list[tuple[np.ndarray, float]]:
    """Local maxima above ``PUNCTA_SNR`` x noise; returns (voxel index, integrated photons)."""
    from skimage.feature import peak_local_max

    fp = np.ones([max(1, int(round(MERGE_PUNCTA_NM / v))) * 2 + 1 for v in voxel_nm], bool)
    peaks = peak_local_max(sig, footprint=fp, threshold_abs=PUNCTA_SNR * noise_sd, exclude_border=False)
    half = [max(1, int(round(MERGE_PUNCTA_NM / 2 / v))) for v in voxel_nm]
    out = []
    for p in peaks:
        box = tuple(slice(max(0, c - h), c + h + 1) for c, h in zip(p, half))
        out.append((p, float(np.clip(sig[box], 0, None).sum())))
    return out


def _partners(seg, p, voxel_nm):
    post = int(seg[tuple(p)])
    r = [max(1, int(round(PARTNER_RADIUS_NM / v))) for v in voxel_nm]
    box = tuple(slice(max(0, c - h), c + h + 1) for c, h in zip(p, r))
    patch = seg[box]
    if post == 0:
        nz = patch[patch > 0]
        if nz.size == 0:
            return 0, 0
        post = Counter(nz.tolist()).most_common(1)[0][0]
    others = patch[(patch > 0) & (patch != post)]
    pre = Counter(others.tolist()).most_common(1)[0][0] if others.size else 0
    return pre, post


@METHODS.register("baseline:exm")
def reconstruct_exm(ds, modality: str = "exm", *, rng=None) -> Submission:
    from phantoms.receptors import RECEPTOR_UNIT_pS

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
    sig = np.stack([_channel_signal(np.asarray(arr[i]), settings, sigma) for i in bar])
    seg = decode_barcodes(sig, voxel_nm, accept_gaps=float(settings.get("barcode_dropout", 0.0)) > 0)
    del sig

    efficiency = float(settings.get("receptor_detection_efficiency", 1.0)) or 1.0
    photons_per_receptor = (float(settings.get("receptor_photons", 1.0)) or 1.0) * efficiency
    puncta = []  # (position index, receptor, count)
    for i, rtype in rec:
        s = _channel_signal(np.asarray(arr[i]), settings, sigma)
        noise = float(np.median(np.abs(s - np.median(s))) * 1.4826) or 1.0
        for p, integ in find_puncta(s, noise, voxel_nm):
            puncta.append((p, rtype, integ / photons_per_receptor))
    # cluster puncta of different receptor channels into synapses
    synapses: list[dict] = []
    for p, rtype, count in puncta:
        pos = (np.asarray(p) + 0.5) * voxel_nm + origin
        for s in synapses:
            if np.linalg.norm(s["pos"] - pos) < MERGE_PUNCTA_NM and rtype not in s["counts"]:
                s["counts"][rtype] = count
                break
        else:
            synapses.append({"p": p, "pos": pos, "counts": {rtype: count}})
    rows = {c: [] for c in ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm",
                            "pre_id", "post_id", "conductance_nS", "sign", "n_AMPA", "n_NMDA", "n_GABA_A")}
    for s in synapses:
        pre, post = _partners(seg, s["p"], voxel_nm)
        if pre == 0 or post == 0:
            continue
        counts = {r: int(round(s["counts"].get(r, 0.0))) for r in ("AMPA", "NMDA", "GABA_A")}
        g = sum(counts[r] * RECEPTOR_UNIT_pS[r] for r in counts) / 1000.0
        inhibitory = counts["GABA_A"] > counts["AMPA"] + counts["NMDA"]
        for d, a in enumerate("zyx"):
            rows[f"pre_{a}_nm"].append(s["pos"][d])
            rows[f"post_{a}_nm"].append(s["pos"][d])
        rows["pre_id"].append(pre)
        rows["post_id"].append(post)
        rows["conductance_nS"].append(g)
        rows["sign"].append(-1 if inhibitory else 1)
        for r in counts:
            rows[f"n_{r}"].append(counts[r])
    cols = {k: np.asarray(v, dtype=np.int64 if k in ("pre_id", "post_id", "sign", "n_AMPA", "n_NMDA", "n_GABA_A") else float)
            for k, v in rows.items()}
    sub = Submission(modality=modality, segmentation=seg, synapses=cols, method="baseline:exm")
    return add_stain_excitability(sub, ds, modality, arr, voxel_nm, lambda i: _bleach_gain(settings, i))


def _bleach_gain(settings: dict, channel: int) -> float:
    """Signal left after bleaching in the rounds before channel ``channel`` was imaged."""
    per_round = int(settings.get("channels_per_round", 1)) or 1
    return (1.0 - float(settings.get("bleach_per_round", 0.0))) ** (channel // per_round)
