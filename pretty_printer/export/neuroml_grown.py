"""NeuroML2 morphologies of grown cells (multi-compartment), for :mod:`pretty_printer.export.neuroml`.

A :class:`~pretty_printer.sim.morphology.CellMorphology` section (an unbranched cable of 3D
points) becomes a run of NeuroML segments, one per pair of consecutive points, grouped in an
unbranched segment group ``sec_<i>`` (NEURON's exporter turns such groups into sections);
``soma_group``, ``axon_group`` and ``dendrite_group`` collect them by kind.  Each section keeps
its own channel densities (``channelDensity`` on a group ``dens_<n>`` of the sections
that share them).  A child section attaches to the
parent segment that contains ``parent_x`` (by path length), at the matching fraction.  A synapse
site (section, x) maps to the segment holding that path length and its ``fractionAlong``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

_KIND_GROUP = {"soma": "soma_group", "axon": "axon_group", "dendrite": "dendrite_group"}
_UNBRANCHED = "sao864921383"  # NeuroLex id of an unbranched section (what NEURON's exporter reads)


def _el(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})


class SegmentIndex:
    """Segment ids of one grown cell: section ``i`` owns ``first[i] .. first[i] + n[i] - 1``."""

    def __init__(self, cell_morph):
        self.sections = cell_morph.sections
        self.first, self.cum = [], []
        nxt = 0
        for sec in self.sections:
            pts = np.asarray(sec.xyz_um, float)
            if len(pts) < 2:
                raise ValueError(f"cell {cell_morph.id}: a section needs >= 2 points, got {len(pts)}")
            lengths = np.linalg.norm(np.diff(pts, axis=0), axis=1)
            self.first.append(nxt)
            self.cum.append(np.concatenate([[0.0], np.cumsum(lengths)]))
            nxt += len(pts) - 1

    def locate(self, section: int, x: float) -> tuple[int, float]:
        """(segment id, fraction along it) of position ``x`` (0..1, by path length) on a section."""
        cum = self.cum[section]
        total = cum[-1]
        if total <= 0:
            return self.first[section], 0.5
        target = float(np.clip(x, 0.0, 1.0)) * total
        k = int(np.clip(np.searchsorted(cum, target, side="right") - 1, 0, len(cum) - 2))
        span = cum[k + 1] - cum[k]
        frac = 0.5 if span <= 0 else (target - cum[k]) / span
        return self.first[section] + k, float(np.clip(frac, 0.0, 1.0))


def grown_cell(doc: ET.Element, cell, cell_morph, densities, extra_densities=(), nseg=None):
    """Append ``<cell id="cell_<id>">`` with the grown morphology and per-section densities.

    ``densities(section)`` returns (density id, channel id, ion, mS/cm2, erev mV) tuples for a
    section; ``extra_densities`` are uniform ones (same tuple form) over the whole cell;
    ``nseg(section)``, if given, is the section's number of compartments, written as the
    ``numberInternalDivisions`` property of its group (NEURON's exporter sets ``nseg`` from it,
    so the exported cell is discretised as our backend's).
    Returns (SegmentIndex, membraneProperties element, biophysicalProperties element) so the
    caller adds the cell-wide properties.
    """
    idx = SegmentIndex(cell_morph)
    c = _el(doc, "cell", id=f"cell_{cell.id}")
    morph = _el(c, "morphology", id=f"morph_{cell.id}")
    for i, sec in enumerate(cell_morph.sections):
        pts, diam = np.asarray(sec.xyz_um, float), np.asarray(sec.diam_um, float)
        for k in range(len(pts) - 1):
            sid = idx.first[i] + k
            seg = _el(morph, "segment", id=sid, name=f"s{i}_{k}")
            if k > 0:
                _el(seg, "parent", segment=sid - 1)
            elif sec.parent >= 0:
                pseg, frac = idx.locate(sec.parent, sec.parent_x)
                _el(seg, "parent", segment=pseg, fractionAlong=f"{frac:.6g}")
            if k == 0:
                _el(seg, "proximal", **_point(pts[0], diam[0]))
            _el(seg, "distal", **_point(pts[k + 1], diam[k + 1]))
    for i, sec in enumerate(cell_morph.sections):
        g = _el(morph, "segmentGroup", id=f"sec_{i}", neuroLexId=_UNBRANCHED)
        if nseg is not None:  # the schema wants properties before members
            ET.SubElement(g, "property", {"tag": "numberInternalDivisions", "value": str(int(nseg(sec)))})
        for k in range(len(sec.xyz_um) - 1):
            _el(g, "member", segment=idx.first[i] + k)
    # sections with equal densities share a group (NEURON's exporter needs a SectionList per density)
    dens_of = [tuple(densities(sec)) for sec in cell_morph.sections]
    classes = list(dict.fromkeys(dens_of))
    for n, cls in enumerate(classes):
        g = _el(morph, "segmentGroup", id=f"dens_{n}")
        for i in (i for i, d in enumerate(dens_of) if d == cls):
            _el(g, "include", segmentGroup=f"sec_{i}")
    for kind, gid in _KIND_GROUP.items():
        members = [i for i, s in enumerate(cell_morph.sections) if s.kind == kind]
        if members:
            g = _el(morph, "segmentGroup", id=gid)
            for i in members:
                _el(g, "include", segmentGroup=f"sec_{i}")
    bio = _el(c, "biophysicalProperties", id=f"bio_{cell.id}")
    mem = _el(bio, "membraneProperties")
    for n, cls in enumerate(classes):
        for did, chan, ion, g, erev in cls:
            _el(mem, "channelDensity", id=f"{did}_{cell.id}_d{n}", ionChannel=chan, condDensity=f"{g:.10g}mS_per_cm2",
                erev=f"{erev:.10g}mV", segmentGroup=f"dens_{n}", ion=ion)
    for did, chan, ion, g, erev in extra_densities:
        _el(mem, "channelDensity", id=f"{did}_{cell.id}", ionChannel=chan, condDensity=f"{g:.10g}mS_per_cm2",
            erev=f"{erev:.10g}mV", ion=ion)
    return idx, mem, bio


def _point(p, d) -> dict:
    return {"x": f"{p[0]:.6f}", "y": f"{p[1]:.6f}", "z": f"{p[2]:.6f}", "diameter": f"{d:.6f}"}
