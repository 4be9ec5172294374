"""The Phantom: grown geometry and molecules of one tissue block, and its save/load.

Cell classes
------------
Every cell carries a class (:data:`CELL_CLASSES`): ``neuron_circuit`` for the cells of the known
circuit (``cell_ids``, in ``spec``), ``neuron_background`` for axons and dendrites of neurons that
are not part of the circuit (their somata mostly lie outside the block), and ``glia`` for glial
processes.  Background cells (``background_ids``) have their own ids, skeletons, labels, barcodes
and synapses among themselves, but no connection to or from a circuit cell, so they never change
what the circuit computes.  ``all_cell_ids`` lists both; :meth:`Phantom.cell_class` names a class.

Everything is in nm, (z, y, x).  ``save`` writes ``phantom.json`` (settings, circuit, per-cell
attributes; ``sort_keys``) and ``arrays.npz`` (skeletons, synapses, vesicles) through a zip
writer with fixed timestamps, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .channels import CHANNEL_COLUMNS
from .config import GrowthConfig
from .spec import CellSpec, CircuitSpec, EdgeSpec

FORMAT = "neural-pretty-printer/phantom@2"
_READABLE = ("neural-pretty-printer/phantom@1", FORMAT)
CELL_CLASSES = ("neuron_circuit", "neuron_background", "glia")
RECEPTOR_TYPES = ("AMPA", "NMDA", "GABA_A")
SWC_SOMA, SWC_AXON, SWC_DENDRITE = 1, 2, 3

SYNAPSE_COLUMNS = (
    ("id", np.int64), ("pre_cell", np.int64), ("post_cell", np.int64),
    ("pre_z_nm", np.float64), ("pre_y_nm", np.float64), ("pre_x_nm", np.float64),
    ("post_z_nm", np.float64), ("post_y_nm", np.float64), ("post_x_nm", np.float64),
    ("psd_area_nm2", np.float64), ("n_AMPA", np.int64), ("n_NMDA", np.int64),
    ("n_GABA_A", np.int64), ("conductance_nS", np.float64), ("receptor_unit_pS", np.float64),
    ("spine", np.int8), ("bouton_z_nm", np.float64), ("bouton_y_nm", np.float64),
    ("bouton_x_nm", np.float64), ("bouton_radius_nm", np.float64),
)


class Skeleton(NamedTuple):
    """One cell's skeleton: node 0 is the soma centre (SWC type 1) with the soma radius."""

    nodes_nm: np.ndarray  # (N, 3) float64, (z, y, x)
    radii_nm: np.ndarray  # (N,) float64
    parent: np.ndarray  # (N,) int64, -1 for the root
    types: np.ndarray  # (N,) int8, SWC types: 1 soma, 2 axon, 3 dendrite


@dataclass(frozen=True, eq=False)
class SynapseTable:
    """Synapses as equal-length columns (see ``SYNAPSE_COLUMNS``); positions in nm.

    ``pre_*`` is a point on the bouton membrane, ``post_*`` the facing point on the PSD; they are
    ``cleft_nm`` (up to a few nm more on tapering shafts) apart.
    """

    data: dict

    def __post_init__(self) -> None:
        lengths = {len(np.asarray(self.data[name])) for name, _ in SYNAPSE_COLUMNS}
        if len(lengths) > 1:
            raise ValueError(f"synapses: expected equal-length columns, got lengths {sorted(lengths)}")
        object.__setattr__(self, "data", {name: np.asarray(self.data[name], dtype=dt)
                                          for name, dt in SYNAPSE_COLUMNS})

    @classmethod
    def empty(cls) -> "SynapseTable":
        return cls({name: np.zeros(0, dt) for name, dt in SYNAPSE_COLUMNS})

    def columns(self) -> dict[str, np.ndarray]:
        return dict(self.data)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __len__(self) -> int:
        return len(self.data["id"])

    @property
    def pre_nm(self) -> np.ndarray:
        return np.stack([self.data["pre_z_nm"], self.data["pre_y_nm"], self.data["pre_x_nm"]], axis=1)

    @property
    def post_nm(self) -> np.ndarray:
        return np.stack([self.data["post_z_nm"], self.data["post_y_nm"], self.data["post_x_nm"]], axis=1)


@dataclass(frozen=True, eq=False)
class Phantom:
    """A grown tissue block.  Build with :func:`phantoms.grow` or :func:`phantoms.cylinder_phantom`.

    ``cell_ids``/``skeletons``/``soma_*`` are the circuit's cells (class ``neuron_circuit``);
    ``background_ids``/``background_skeletons``/``background_classes`` the background cells
    (``neuron_background`` or ``glia``; their root node stands for a soma outside the block).
    ``synapses`` holds every synapse, circuit and background (decoy) ones alike.
    ``packing`` is empty for sparse tissue (labels are the skeletons' round cones); for dense
    neuropil it holds ``fill_nm`` and ``gap_nm`` of the nearest-surface rule (docs/tissue.md).
    """

    cfg: GrowthConfig
    spec: CircuitSpec
    cell_ids: tuple[int, ...]
    soma_centers: np.ndarray  # (n_cells, 3) nm
    soma_radii: np.ndarray  # (n_cells,) nm
    skeletons: tuple[Skeleton, ...]  # ordered like cell_ids
    synapses: SynapseTable
    vesicles_nm: np.ndarray  # (M, 4): z, y, x, radius
    vesicle_synapse: np.ndarray  # (M,) synapse id of each vesicle
    barcodes: dict  # cell id -> (N,) uint8 0/1
    block_origin_nm: np.ndarray  # (3,)
    block_size_nm: np.ndarray  # (3,)
    meta: dict = field(default_factory=dict)  # seeds, counts, notes
    organelles: dict = field(default_factory=dict)  # phantoms.organelles.Organelles.arrays(); {} = none
    background_ids: tuple[int, ...] = ()
    background_skeletons: tuple[Skeleton, ...] = ()
    background_classes: tuple[str, ...] = ()  # "neuron_background" | "glia", like background_ids
    background_excitatory: tuple[bool, ...] = ()  # transmitter sign of background neurons
    # "glutamate" | "GABA" | "acetylcholine" per background cell (Dale's law); () = by sign
    background_transmitters: tuple[str, ...] = ()
    packing: dict = field(default_factory=dict)  # {} sparse; {"fill_nm", "gap_nm", ...} dense

    # ------------------------------------------------------------------ per cell
    def _index(self, cid: int) -> int:
        try:
            return self.cell_ids.index(int(cid))
        except ValueError:
            raise KeyError(f"cell {cid!r} is not in this phantom; cells: {list(self.cell_ids)}") from None

    @property
    def all_cell_ids(self) -> tuple[int, ...]:
        """Circuit cells, then background cells."""
        return tuple(self.cell_ids) + tuple(self.background_ids)

    @property
    def all_skeletons(self) -> tuple[Skeleton, ...]:
        return tuple(self.skeletons) + tuple(self.background_skeletons)

    def cell_class(self, cid: int) -> str:
        """``neuron_circuit``, ``neuron_background`` or ``glia``."""
        if int(cid) in self.cell_ids:
            return "neuron_circuit"
        try:
            return self.background_classes[self.background_ids.index(int(cid))]
        except ValueError:
            raise KeyError(f"cell {cid!r} is not in this phantom") from None

    def excitatory(self, cid: int) -> bool:
        """Transmitter sign of any cell (glia count as non-excitatory; they make no synapses)."""
        if int(cid) in self.cell_ids:
            return bool(self.cell_spec(int(cid)).excitatory)
        return bool(self.background_excitatory[self.background_ids.index(int(cid))])

    def transmitter(self, cid: int) -> str:
        """``glutamate``, ``GABA`` or ``acetylcholine`` (circuit cells: glutamate or GABA by sign)."""
        if int(cid) in self.background_ids and self.background_transmitters:
            return self.background_transmitters[self.background_ids.index(int(cid))]
        return "glutamate" if self.excitatory(cid) else "GABA"

    def soma_center_nm(self, cid: int) -> np.ndarray:
        return self.soma_centers[self._index(cid)].copy()

    def soma_radius_nm(self, cid: int) -> float:
        return float(self.soma_radii[self._index(cid)])

    def skeleton(self, cid: int) -> Skeleton:
        if int(cid) in self.background_ids:
            return self.background_skeletons[self.background_ids.index(int(cid))]
        return self.skeletons[self._index(cid)]

    def cell_spec(self, cid: int) -> CellSpec:
        for c in self.spec.cells:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def channel_densities(self, cid: int) -> dict[str, np.ndarray]:
        """Per-node (compartment) channel densities in mS/cm^2, keyed by column name.

        Na, K and leak are the cell model's values; the tonic channels that set the cell's
        excitability (``phantoms/channels.py``: ``g_cation_leak_mS_cm2``,
        ``g_tonic_gabaa_mS_cm2``) differ between cells.  The cell models are single-compartment
        HH; the phantom gives every compartment of a cell the same densities so a morphological
        simulation reproduces the point cell's membrane.
        """
        c = self.cell_spec(cid)
        n = len(self.skeleton(cid).radii_nm)
        names = ("g_na_mS_cm2", "g_k_mS_cm2", "g_leak_mS_cm2") + CHANNEL_COLUMNS
        return {k: np.full(n, float(getattr(c, k))) for k in names}

    @property
    def n_barcode_proteins(self) -> int:
        return int(self.cfg.barcode_proteins)

    def __getstate__(self) -> dict:
        """Pickle the fields only, not the lazily built rasterization caches (``_``-prefixed).

        Rasterizing threads add those caches to ``__dict__`` (``raster_geometry.primitives``,
        ``organelle_fields``); a scheduler pickling the phantom at that moment (dask.distributed
        sending a task) failed with "dictionary changed size during iteration" and the run stalled.
        ``dict(self.__dict__)`` copies in one step under the GIL; the receiver rebuilds the caches.
        """
        return {k: v for k, v in dict(self.__dict__).items() if not k.startswith("_")}

    # ------------------------------------------------------------------ I/O
    def save(self, directory) -> Path:
        """Write ``phantom.json`` and ``arrays.npz`` into ``directory`` (created)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": FORMAT,
            "cfg": self.cfg.to_dict(),
            "spec": {"cells": [asdict(c) for c in self.spec.cells],
                     "edges": [asdict(e) for e in self.spec.edges]},
            "cell_ids": list(self.cell_ids),
            "barcodes": {str(c): [int(v) for v in self.barcodes[c]] for c in self.cell_ids},
            "block_origin_nm": [float(v) for v in self.block_origin_nm],
            "block_size_nm": [float(v) for v in self.block_size_nm],
            "meta": self.meta,
            "background": {"ids": list(self.background_ids), "classes": list(self.background_classes),
                           "excitatory": [bool(v) for v in self.background_excitatory],
                           "transmitters": list(self.background_transmitters)},
            "packing": self.packing,
        }
        doc["barcodes"] = {str(c): [int(v) for v in self.barcodes[c]] for c in self.all_cell_ids}
        (d / "phantom.json").write_text(json.dumps(doc, indent=1, sort_keys=True))
        arrays = {"soma_centers": self.soma_centers, "soma_radii": self.soma_radii,
                  "vesicles_nm": self.vesicles_nm, "vesicle_synapse": self.vesicle_synapse}
        for cid, sk in zip(self.all_cell_ids, self.all_skeletons):
            for name, arr in sk._asdict().items():
                arrays[f"cell{cid}/{name}"] = arr
        for name, arr in self.synapses.columns().items():
            arrays[f"synapses/{name}"] = arr
        for name, arr in self.organelles.items():
            arrays[f"organelles/{name}"] = arr
        write_npz(d / "arrays.npz", arrays)
        return d


def load_phantom(directory) -> Phantom:
    """Read a phantom written by :meth:`Phantom.save`."""
    d = Path(directory)
    doc = json.loads((d / "phantom.json").read_text())
    if doc.get("format") not in _READABLE:
        raise ValueError(f"phantom format: expected {FORMAT!r}, got {doc.get('format')!r}")
    with np.load(d / "arrays.npz") as z:
        arrays = {k: z[k] for k in z.files}
    cell_ids = tuple(int(c) for c in doc["cell_ids"])
    skeletons = tuple(Skeleton(*(arrays[f"cell{c}/{n}"] for n in Skeleton._fields)) for c in cell_ids)
    bg = doc.get("background", {"ids": [], "classes": [], "excitatory": []})
    bg_ids = tuple(int(c) for c in bg["ids"])
    bg_skeletons = tuple(Skeleton(*(arrays[f"cell{c}/{n}"] for n in Skeleton._fields)) for c in bg_ids)
    spec = CircuitSpec(cells=tuple(CellSpec(**c) for c in doc["spec"]["cells"]),
                       edges=tuple(EdgeSpec(**e) for e in doc["spec"]["edges"]))
    return Phantom(
        cfg=GrowthConfig(**doc["cfg"]), spec=spec, cell_ids=cell_ids,
        soma_centers=arrays["soma_centers"], soma_radii=arrays["soma_radii"], skeletons=skeletons,
        synapses=SynapseTable({n: arrays[f"synapses/{n}"] for n, _ in SYNAPSE_COLUMNS}),
        vesicles_nm=arrays["vesicles_nm"], vesicle_synapse=arrays["vesicle_synapse"],
        barcodes={int(c): np.asarray(v, np.uint8) for c, v in doc["barcodes"].items()},
        block_origin_nm=np.asarray(doc["block_origin_nm"], float),
        block_size_nm=np.asarray(doc["block_size_nm"], float), meta=doc["meta"],
        organelles={k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("organelles/")},
        background_ids=bg_ids, background_skeletons=bg_skeletons,
        background_classes=tuple(bg["classes"]), background_excitatory=tuple(bool(v) for v in bg["excitatory"]),
        background_transmitters=tuple(bg.get("transmitters", ())),
        packing=doc.get("packing", {}),
    )


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` with sorted members and fixed timestamps: same arrays, same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
