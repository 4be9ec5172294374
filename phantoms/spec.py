"""The circuit as the phantom sees it: a small plain description defined here.

``phantoms`` never imports ``pretty_printer``; the tool converts its Circuit into a
:class:`CircuitSpec` before growing tissue.

Coordinates everywhere in ``phantoms`` and ``scanners`` are nanometres in (z, y, x) order.
"""

from __future__ import annotations

from dataclasses import dataclass

PHANTOM_ROLES = ("input", "hidden", "output")


@dataclass(frozen=True)
class CellSpec:
    id: int
    role: str  # "input" | "hidden" | "output"
    layer: int  # 0 = input layer
    excitatory: bool  # Dale's law: glutamatergic (True) or GABAergic (False)
    g_na_mS_cm2: float = 120.0  # somatic channel densities of the cell model
    g_k_mS_cm2: float = 36.0
    g_leak_mS_cm2: float = 0.3
    # tonic channels that set the cell's operating point (phantoms/channels.py), mS/cm^2
    g_cation_leak_mS_cm2: float = 0.0
    g_tonic_gabaa_mS_cm2: float = 0.0


@dataclass(frozen=True)
class EdgeSpec:
    pre: int
    post: int
    conductance_nS: float  # peak conductance of the whole connection, > 0
    receptor: str  # "AMPA" | "NMDA" | "GABA_A"


@dataclass(frozen=True)
class CircuitSpec:
    cells: tuple[CellSpec, ...]
    edges: tuple[EdgeSpec, ...]
