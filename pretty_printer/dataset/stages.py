"""Adapters between a preset and each stage's own configuration.

Each stage package validates its own config and raises ``ValueError`` naming the key; here those
become :class:`ConfigError` (exit code 2 at the CLI) with the preset section prepended.
"""

from __future__ import annotations

import inspect

from pretty_printer.circuit.description import Circuit
from pretty_printer.errors import ConfigError


def growth_config(preset):
    import phantoms

    try:
        return phantoms.GrowthConfig(**preset.tissue)
    except TypeError as e:
        import dataclasses

        valid = [f.name for f in dataclasses.fields(phantoms.GrowthConfig)]
        bad = sorted(set(preset.tissue) - set(valid))
        raise ConfigError(
            f"preset {preset.name!r} [tissue]: unknown key {bad[0] if bad else '?'!r}; "
            f"expected one of: {', '.join(sorted(valid))}"
        ) from e
    except ValueError as e:
        raise ConfigError(f"preset {preset.name!r} [tissue]: {e}") from e


def make_scanner(preset, modality: str):
    import scanners

    params = dict(preset.scan[modality])
    try:
        scanner = scanners.make_scanner(params)
    except (ValueError, KeyError, TypeError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise ConfigError(f"preset {preset.name!r} [scan.{modality}]: {msg}") from e
    if scanner.modality != modality:
        raise ConfigError(
            f"preset {preset.name!r} [scan.{modality}]: expected a {modality} scanner, "
            f"got kind {scanner.modality!r}"
        )
    return scanner


def check_compile_options(preset) -> None:
    from pretty_printer.circuit import compiler
    from pretty_printer.task import tasks

    tasks.TASKS.get(preset.task)  # unknown task -> UnknownNameError listing the valid ones
    params = inspect.signature(compiler.compile_task).parameters
    valid = [n for n, p in params.items() if p.kind == p.KEYWORD_ONLY]
    bad = sorted(set(preset.compile) - set(valid))
    if bad:
        raise ConfigError(
            f"preset {preset.name!r} [compile]: unknown key {bad[0]!r}; expected one of: {', '.join(valid)}"
        )
    cell = preset.compile.get("cell")
    if cell is not None:
        from pretty_printer.circuit.cellmodels import CELL_MODELS

        CELL_MODELS.get(cell)


def circuit_to_spec(circuit: Circuit):
    """The plain description the phantom grows: roles, Dale sign, channel densities, conductances."""
    import phantoms

    from pretty_printer.circuit.cellmodels import CELL_MODELS

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
            )
        )
    edges = tuple(
        phantoms.EdgeSpec(pre=k.pre, post=k.post, conductance_nS=k.weight_uS * 1000.0, receptor=k.receptor)
        for k in circuit.connections
        if k.weight_uS > 0
    )
    return phantoms.CircuitSpec(cells=tuple(cells), edges=edges)
