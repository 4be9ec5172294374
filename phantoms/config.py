"""Growth settings: one frozen dataclass, every default written once here.

Scale
-----
The phantom grows *scaled-down* cortical neurons so that a circuit of ~10-60 cells fits in a
few cubic micrometres that can be rasterized at EM voxel sizes.  Relative to a layer-2/3
pyramidal cell (soma radius ~8 um, proximal dendrite radius ~1 um, axon radius ~0.25 um,
dendritic field radius ~150 um) the defaults scale the soma by ~1/17, dendrite calibre by
~1/5, axon calibre by ~1/5 and arbor extent by ~1/60-1/100.  Synapses (cleft, PSD, spine,
bouton, vesicles) keep their real size: those are what scanners must resolve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


class GrowthError(RuntimeError):
    """The phantom could not realize the circuit (block too small or too crowded).

    The message names the connection (``pre -> post``) that could not be realized.
    """


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}")


_POSITIVE = ("soma_radius_nm", "min_soma_spacing_nm", "dendrite_radius_nm", "dendrite_min_radius_nm",
             "dendrite_length_nm", "step_nm", "noise_scale_nm", "axon_radius_nm", "bouton_radius_nm",
             "spine_neck_radius_nm", "spine_neck_length_nm", "spine_head_radius_nm", "cleft_nm",
             "psd_thickness_nm", "membrane_nm", "synapse_unit_nS", "psd_area_per_nS_nm2", "psd_area_min_nm2",
             "psd_area_max_nm2", "vesicle_radius_nm", "excitability_scale_uA_cm2", "fill_max_nm",
             "background_step_nm", "background_axon_radius_nm", "background_axon_min_radius_nm",
             "background_dendrite_radius_nm", "background_glia_radius_nm", "bouton_interval_um",
             "background_bouton_radius_nm", "spine_head_volume_um3", "background_psd_area_nm2",
             "background_spine_neck_nm")
_NON_NEGATIVE = ("background_axon_um_per_um3", "background_dendrite_um_per_um3", "background_glia_um_per_um3",
                 "background_axon_radius_sd", "background_dendrite_radius_sd", "spines_per_um",
                 "background_psd_area_sd", "vesicles_per_um3", "inhibitory_share", "acetylcholine_share",
                 "block_margin_nm", "soma_rind_nm", "soma_radius_jitter", "dendrite_taper_nm_per_um", "dendrite_branch_per_um",
                 "tortuosity", "extracellular_gap_nm")


@dataclass(frozen=True)
class GrowthConfig:
    """How a circuit grows into a tissue block.  Lengths in nm, (z, y, x) order."""

    # --- the block and the somata
    block_nm: tuple[float, float, float] = (2000.0, 5000.0, 5000.0)
    block_margin_nm: float = 60.0  # neurites keep this far from the block faces
    layer_axis: int = 2  # layers (input -> output) are laid out along this axis (2 = x)
    soma_radius_nm: float = 450.0
    soma_radius_jitter: float = 0.1  # relative spread of soma radii
    min_soma_spacing_nm: float = 1100.0  # centre to centre
    # > 0: somata lie in a rind this thick along axis 0 (z), neurites fill the rest (insects:
    # somata in a cortex outside the neuropil); 0: anywhere in the block
    soma_rind_nm: float = 0.0
    # --- dendrites (tapering, branching, tortuous)
    dendrites_min: int = 3
    dendrites_max: int = 5
    dendrite_radius_nm: float = 180.0  # at the soma
    dendrite_min_radius_nm: float = 100.0
    dendrite_taper_nm_per_um: float = 40.0
    dendrite_length_nm: float = 1800.0  # longest soma-to-tip path
    dendrite_branch_per_um: float = 0.5  # branching probability per um of path
    dendrite_max_branch_order: int = 3
    step_nm: float = 150.0  # skeleton node spacing
    tortuosity: float = 0.6  # weight of Perlin noise against persistence
    noise_scale_nm: float = 1500.0  # spatial period of the Perlin noise
    # --- axons and synapses
    axon_radius_nm: float = 50.0
    bouton_radius_nm: float = 110.0  # smallest bouton; grows with the PSD it faces
    spine_neck_radius_nm: float = 45.0
    spine_neck_length_nm: float = 220.0
    spine_head_radius_nm: float = 110.0  # smallest head; grows with its PSD
    cleft_nm: float = 22.0  # bouton-to-PSD membrane distance (at most 30 nm on tapering shafts)
    psd_thickness_nm: float = 40.0
    extracellular_gap_nm: float = 20.0  # least membrane-to-membrane distance between cells
    membrane_nm: float = 8.0  # plasma-membrane shell thickness (rasterized inside the surface)
    # one synapse per this much connection conductance: real connections are several synapses
    # (Fares & Stepanyants 2009 PNAS 106:16463), each well under ~1 nS of AMPA peak conductance
    synapse_unit_nS: float = 1.0
    max_synapses_per_connection: int = 6
    # mean PSD area per nS of conductance: with ~6 pS per AMPA receptor a 1 nS synapse holds ~170
    # receptors on 0.05 um^2, ~3,300/um^2 (400-3,300 measured, Tanaka et al. 2005, Masugi-Tokita
    # et al. 2007; packing limit ~10^4/um^2), and the compiled circuits' synapses land around the
    # cortical median of ~0.04 um^2 (Schikorski & Stevens 1997); the clip limits are rarely reached
    psd_area_per_nS_nm2: float = 50000.0
    psd_area_min_nm2: float = 500.0
    psd_area_max_nm2: float = 300000.0
    receptor_size_correlation: float = 0.8  # how predictable receptor counts are from PSD area
    # --- excitability (tonic channels) and the size principle: see phantoms/channels.py
    # how far soma size follows tonic drive; 0 (off) unless a preset sets it (tiny: 0.5)
    excitability_morphology_correlation: float = 0.0
    # the law's centre and scale (uA/cm^2 of tonic drive at -65 mV), a property of the simulated
    # biology; 0.2 uA/cm^2 is the default (Wang-Buzsaki) cell's rheobase, the scale spans the
    # compiled circuits' drives (about -0.8 to +1.2 uA/cm^2 within +-2 scales)
    excitability_ref_uA_cm2: float = 0.2
    excitability_scale_uA_cm2: float = 0.5
    vesicle_radius_nm: float = 20.0
    synapse_attempts: int = 24  # sites tried per synapse before the connection fails
    # --- molecules
    barcode_proteins: int = 12  # N
    barcode_k: int = 4  # each cell expresses k of N
    # --- dense neuropil around the circuit (docs/tissue.md gives every source)
    dense: bool = True  # False: the circuit alone in empty space (labels = skeleton round cones)
    # extracellular volume fraction to reach: ~0.20 in vivo (Sykova & Nicholson 2008 Physiol Rev
    # 88:1277), ~0.05 after aldehyde fixation (Korogod et al. 2015 eLife 4:e05793)
    ecs_fraction: float = 0.20
    fill_max_nm: float = 400.0  # labels grow at most this far beyond a skeleton's radius
    # background length per um^3 of block; cortex: axons ~4 um/um^3 (Braitenberg & Schuz 1998,
    # BioNumbers 109245), dendrites ~0.5-1 um/um^3 (same), astrocyte processes fill ~10 % of volume
    background_axon_um_per_um3: float = 3.0
    background_dendrite_um_per_um3: float = 0.5
    background_glia_um_per_um3: float = 0.5
    background_step_nm: float = 250.0
    # calibres as log-normal (median, log-sd); axon diameter 0.1 um minimum, ~0.3 um mean
    # (BioNumbers 109245); distal dendrites 0.5-1.5 um across (pyramidal morphometry)
    background_axon_radius_nm: float = 120.0
    background_axon_radius_sd: float = 0.35
    background_axon_min_radius_nm: float = 50.0
    background_dendrite_radius_nm: float = 350.0
    background_dendrite_radius_sd: float = 0.3
    background_glia_radius_nm: float = 90.0
    # en-passant boutons: one per ~4 um of axon (3-6 um inter-bouton interval in cortex,
    # Shepherd & Harris 1998 J Neurosci 18:8300), radius log-normal (0.5-1 um across)
    bouton_interval_um: float = 3.0
    background_bouton_radius_nm: float = 280.0
    # spines: ~1-2 per um of dendrite; neck 0.1-0.2 um across, head 0.03-0.27 um^3 (Harris et al.
    # 1992 J Neurosci 12:2685), length ~1 um
    spines_per_um: float = 0.3  # spines without a partner here (more grow to boutons)
    spine_head_volume_um3: float = 0.06
    background_spine_neck_nm: float = 450.0
    # PSD area of background synapses: log-normal, median ~0.04 um^2 (Schikorski & Stevens 1997
    # J Neurosci 17:5858), log-sd 0.7 (0.01-0.2 um^2 covers most)
    background_psd_area_nm2: float = 40000.0
    background_psd_area_sd: float = 0.7
    # vesicles in proportion to bouton volume: ~200 in a 0.05-0.1 um^3 bouton (Schikorski &
    # Stevens 1997): ~2800 per um^3
    vesicles_per_um3: float = 2800.0
    inhibitory_share: float = 0.1  # of background neurons (6-13 % symmetric synapses, Santuy 2018)
    # cholinergic share of background neurons: 0 in cortex; the fly's main fast excitatory
    # transmitter (Eckstein et al. 2024 Cell 187:2574; fly.toml gives the numbers)
    acetylcholine_share: float = 0.0
    # partners per presynaptic bouton: 1 = monadic (cortex); > 1 = polyadic contacts with 2..this
    # many partners, as in Drosophila (2-6 per T-bar, FlyWire/hemibrain; tetrads in the lamina,
    # Meinertzhagen & O'Neil 1991)
    polyadic_partners_max: int = 1
    tbar: bool = False  # presynaptic T-bars (insect active zones; phantoms/organelle_fields.py)

    def __post_init__(self) -> None:
        self._check_block()
        self._coerce_types()
        self._check_positive()
        self._check_ranges()
        self._check_relations()

    def _check_block(self) -> None:
        block = tuple(self.block_nm) if isinstance(self.block_nm, (list, tuple)) else self.block_nm
        if not (isinstance(block, tuple) and len(block) == 3):
            raise ValueError(f"block_nm: expected 3 lengths (z, y, x) in nm, got {self.block_nm!r}")
        for v in block:
            _positive("block_nm", v)
        object.__setattr__(self, "block_nm", tuple(float(v) for v in block))

    def _coerce_types(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in ("float", float):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(f"{f.name}: expected a number, got {v!r}")
                object.__setattr__(self, f.name, float(v))
            elif f.type in ("int", int):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ValueError(f"{f.name}: expected an integer, got {v!r}")
            elif f.type in ("bool", bool) and not isinstance(v, bool):
                raise ValueError(f"{f.name}: expected true or false, got {v!r}")

    def _check_positive(self) -> None:
        for name in _POSITIVE:
            _positive(name, getattr(self, name))
        for name in _NON_NEGATIVE:
            _non_negative(name, getattr(self, name))
        for name in ("dendrites_min", "dendrites_max", "max_synapses_per_connection",
                     "synapse_attempts", "barcode_proteins", "barcode_k", "polyadic_partners_max"):
            if getattr(self, name) < (0 if name == "dendrites_min" else 1):
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)!r}")
        if self.dendrite_max_branch_order < 0:
            raise ValueError(f"dendrite_max_branch_order: expected >= 0, got {self.dendrite_max_branch_order!r}")

    def _check_ranges(self) -> None:
        if not 0.0 < self.ecs_fraction < 1.0:
            raise ValueError(f"ecs_fraction: expected a number in (0, 1), got {self.ecs_fraction!r}")
        if self.layer_axis not in (0, 1, 2):
            raise ValueError(f"layer_axis: expected 0, 1 or 2, got {self.layer_axis!r}")
        for name in ("receptor_size_correlation", "excitability_morphology_correlation"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1], got {getattr(self, name)!r}")
        if self.inhibitory_share + self.acetylcholine_share > 1.0:
            raise ValueError(f"acetylcholine_share: expected <= 1 - inhibitory_share ({1.0 - self.inhibitory_share:g}), "
                             f"got {self.acetylcholine_share!r}")
        if not 0.0 <= self.soma_radius_jitter < 0.5:
            raise ValueError(f"soma_radius_jitter: expected a number in [0, 0.5), got {self.soma_radius_jitter!r}")
        if self.cleft_nm > 30.0:
            raise ValueError(f"cleft_nm: expected <= 30 nm (synaptic clefts are 10-30 nm), got {self.cleft_nm!r}")

    def _check_relations(self) -> None:
        for small, big in (("extracellular_gap_nm", "cleft_nm"), ("dendrite_min_radius_nm", "dendrite_radius_nm"),
                           ("psd_area_min_nm2", "psd_area_max_nm2"), ("dendrites_min", "dendrites_max"),
                           ("barcode_k", "barcode_proteins")):
            if getattr(self, small) > getattr(self, big):
                name, want = (big, ">=") if small in ("extracellular_gap_nm", "dendrites_min") else (small, "<=")
                other = small if name == big else big
                raise ValueError(f"{name}: expected {want} {other} ({getattr(self, other)}), got {getattr(self, name)!r}")
        if self.membrane_nm >= self.axon_radius_nm:
            raise ValueError(f"membrane_nm: expected < axon_radius_nm ({self.axon_radius_nm}), "
                             f"got {self.membrane_nm!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of all settings (the keys a preset's ``[tissue]`` table may use)."""
        return tuple(f.name for f in fields(cls))

    def to_dict(self) -> dict:
        return {f.name: (list(getattr(self, f.name)) if f.name == "block_nm" else getattr(self, f.name))
                for f in fields(self)}
