"""The Circuit: a plain, simulator-free description of a spiking network.

The compiler produces it from a trained ANN; the NEURON backend simulates it; the phantom grows
it into tissue; the scorer rebuilds one from a submission.  It knows nothing of NEURON.

Conventions
-----------
* Cell ids are non-negative ints, unique, and need not be contiguous (a rebuilt circuit uses
  segment ids).
* Inputs are injected as currents: input cell ``k`` receives
  ``encoding.offset_nA + encoding.scale_nA * x[k]`` for the duration of each stimulus bin.
* Outputs are read as firing rates (Hz) over ``readout.window_ms`` at the end of each bin.
* A cell's operating point is set by tonic channel densities (``g_cation_leak_mS_cm2``,
  ``g_tonic_gabaa_mS_cm2``); ``bias_nA`` is an injected current kept as a test option.
* ``weight_uS`` is the peak conductance of the *whole connection* (all its synapses together);
  the receptor fixes its reversal potential and kinetics.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROLES = ("input", "hidden", "output")
TRANSMITTERS = ("glutamate", "gaba")
RECEPTORS = ("AMPA", "NMDA", "GABA_A")


@dataclass(frozen=True)
class Cell:
    id: int
    role: str  # one of ROLES
    layer: int  # 0 = input layer; recurrent units share one layer
    model: str  # registered cell-model name, e.g. "hh", "wang_buzsaki"
    transmitter: str  # one of TRANSMITTERS (Dale's law: one per cell)
    bias_nA: float = 0.0  # constant current injected into the soma (a test option; see below)
    # tonic channel densities (mS/cm^2, uniform over the membrane) that set the operating point
    # (pretty_printer/circuit/excitability.py)
    g_cation_leak_mS_cm2: float = 0.0
    g_tonic_gabaa_mS_cm2: float = 0.0


@dataclass(frozen=True)
class Connection:
    pre: int
    post: int
    receptor: str  # one of RECEPTORS; AMPA/NMDA iff pre is glutamatergic
    weight_uS: float  # peak conductance of the whole connection, >= 0
    delay_ms: float = 1.0


@dataclass(frozen=True)
class Encoding:
    """How task inputs become currents into the input cells."""

    scale_nA: float = 1.0
    offset_nA: float = 0.0


@dataclass(frozen=True)
class Readout:
    """How output rates are read: over the last ``window_ms`` of each ``bin_ms`` stimulus bin."""

    bin_ms: float = 300.0
    window_ms: float = 200.0


@dataclass(frozen=True)
class Circuit:
    task: str
    cells: tuple[Cell, ...]
    connections: tuple[Connection, ...]
    input_cells: tuple[int, ...]  # ordered like the task's input vector
    output_cells: tuple[int, ...]  # ordered like the task's output vector
    encoding: Encoding = field(default_factory=Encoding)
    readout: Readout = field(default_factory=Readout)
    soma_area_um2: float = 1000.0  # area used to turn densities into currents for point cells
    temperature_C: float = 6.3
    dt_ms: float = 0.025
    meta: dict = field(default_factory=dict)  # free-form provenance (seed, ann hash, ...)

    # ------------------------------------------------------------------ helpers
    def cell(self, cid: int) -> Cell:
        for c in self.cells:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def with_connections(self, connections) -> "Circuit":
        return replace(self, connections=tuple(connections))

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        d = asdict(self)
        d["format"] = "neural-pretty-printer/circuit@1"
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Circuit":
        d = dict(d)
        d.pop("format", None)
        return cls(
            task=d["task"],
            cells=tuple(Cell(**c) for c in d["cells"]),
            connections=tuple(Connection(**c) for c in d["connections"]),
            input_cells=tuple(d["input_cells"]),
            output_cells=tuple(d["output_cells"]),
            encoding=Encoding(**d.get("encoding", {})),
            readout=Readout(**d.get("readout", {})),
            soma_area_um2=d.get("soma_area_um2", 1000.0),
            temperature_C=d.get("temperature_C", 6.3),
            dt_ms=d.get("dt_ms", 0.025),
            meta=d.get("meta", {}),
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> "Circuit":
        return cls.from_dict(json.loads(Path(path).read_text()))
