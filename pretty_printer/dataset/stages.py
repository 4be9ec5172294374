"""Adapters between a preset and each stage's own configuration.

Each stage package validates its own config and raises ``ValueError`` naming the key; here those
become :class:`ConfigError` (exit code 2 at the CLI) with the preset section prepended.
"""

from __future__ import annotations

from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import ConfigError


def growth_config(preset):
    """The preset's ``[tissue]`` as a :class:`phantoms.GrowthConfig` (typed, one-line errors)."""
    import phantoms

    from pretty_printer.dataset.schema import build

    return build(f"preset {preset.name!r} [tissue]", phantoms.GrowthConfig, preset.tissue)


def make_scanner(preset, modality: str):
    """The ``modality`` scanner of a preset (its scanner preset, overrides, ExM barcodes from the tissue)."""
    import scanners

    from pretty_printer.dataset.validation import scanner_params

    try:
        scanner = scanners.make_scanner(scanner_params(preset, modality))
    except (ValueError, KeyError, TypeError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise ConfigError(f"preset {preset.name!r} [scan.{modality}]: {msg}") from e
    if scanner.modality != modality:
        raise ConfigError(
            f"preset {preset.name!r} [scan.{modality}]: expected a {modality} scanner, "
            f"got kind {scanner.modality!r}"
        )
    return scanner


def compile_kwargs(preset) -> dict:
    """Keyword arguments for ``compile_task`` from the preset's ``[compile]`` (typed, checked)."""
    from pretty_printer.dataset.compile_schema import compile_kwargs as kwargs

    return kwargs(f"preset {preset.name!r}", preset.compile)


def circuit_to_spec(circuit: Circuit):
    """The plain description the phantom grows: roles, Dale sign, channel densities, conductances."""
    import phantoms

    from pretty_printer.circuit.cellmodels import CELL_MODELS
    from pretty_printer.circuit.excitability import CHANNEL_COLUMNS

    cells = []
    for c in circuit.cells:
        model = CELL_MODELS.get(c.model)
        cells.append(
            phantoms.CellSpec(
                id=c.id,
                role=c.role,
                layer=c.layer,
                excitatory=c.transmitter == "glutamate",
                g_na_mS_cm2=float(model.g_na_mS_cm2),
                g_k_mS_cm2=float(model.g_k_mS_cm2),
                g_leak_mS_cm2=float(model.g_leak_mS_cm2),
                **{col: float(getattr(c, col)) for col in CHANNEL_COLUMNS},
            )
        )
    edges = tuple(
        phantoms.EdgeSpec(pre=k.pre, post=k.post, conductance_nS=k.weight_uS * 1000.0, receptor=k.receptor)
        for k in circuit.connections
        if k.weight_uS > 0
    )
    return phantoms.CircuitSpec(cells=tuple(cells), edges=edges)
