"""The ``[compile]`` table of a preset: the keyword-only parameters of ``compile_task``.

Derived from :func:`pretty_printer.circuit.compiler.compile_task` itself (its signature, type hints
and defaults), so a parameter added there is a preset key here at once.  Parameters that are also
:class:`~pretty_printer.task.training.TrainConfig` fields (``epochs``, ``n_excitatory``...) take
their bounds from it and their default from the task (:data:`~pretty_printer.circuit.compiler.TASK_TRAINING`,
else ``TrainConfig``); a parameter annotated with a dataclass (``calibration``) is a sub-table
(``compile.calibration.rounds``).  ``seed`` is not a preset key: it comes from ``generate --seed``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

from pretty_printer.dataset import schema
from pretty_printer.errors import ConfigError, PrettyPrinterError

#: compile_task parameters a preset may not set, and why.
RESERVED = {"seed": "the seed comes from `generate --seed` (the seed tree), not from the preset"}


def compile_params() -> dict[str, tuple[Any, Any]]:
    """name -> (type hint, signature default) of ``compile_task``'s settable keyword-only parameters."""
    from pretty_printer.circuit.compiler import compile_task

    try:
        hints = typing.get_type_hints(compile_task)
    except Exception:  # noqa: BLE001 - an unresolvable hint only loses its type check
        hints = {}
    return {n: (hints.get(n, p.annotation), p.default)
            for n, p in inspect.signature(compile_task).parameters.items()
            if p.kind == p.KEYWORD_ONLY and n not in RESERVED}


def _train_fields() -> dict[str, Any]:
    from pretty_printer.task.training import TrainConfig

    return schema.field_defaults(TrainConfig)


def _choices(name: str) -> list[str] | None:
    if name == "cell":
        from pretty_printer.circuit.cellmodels import CELL_MODELS

        return CELL_MODELS.names()
    return None


def compile_kwargs(where: str, table: dict) -> dict[str, Any]:
    """Validated keyword arguments for ``compile_task`` from a preset's ``[compile]`` table.

    Raises
    ------
    ConfigError
        One line naming ``[compile] key``: unknown or reserved key, wrong type, out of bounds.
    """
    where = f"{where} [compile]"
    for key in table:
        if key in RESERVED:
            raise ConfigError(f"{where} {key}: not a preset key; {RESERVED[key]}")
    params = compile_params()
    schema.check_keys(where, table, params)
    train = _train_fields()
    kwargs = {}
    for key, value in table.items():
        hint = params[key][0]
        kind, cls = schema._hint_kind(hint)
        if kind == "dataclass":
            if not isinstance(value, dict):
                raise ConfigError(f"{where} {key}: expected a table of {cls.__name__} keys, got {value!r}")
            kwargs[key] = schema.build(where, cls, value, prefix=f"{key}.")
            continue
        try:
            value = schema.check_type(key, hint, value)
        except ConfigError as e:
            raise ConfigError(f"{where} {e}") from e
        choices = _choices(key)
        if choices is not None and value not in choices:
            raise ConfigError(f"{where} {key}: expected one of: {', '.join(choices)}, got {value!r}")
        if key in train:
            from pretty_printer.task.training import TrainConfig

            try:
                TrainConfig(**{key: value})
            except (ValueError, TypeError, PrettyPrinterError) as e:
                raise ConfigError(f"{where} {e}") from e
        kwargs[key] = value
    return kwargs


def resolved(task: str, table: dict) -> dict[str, tuple[Any, str]]:
    """Every ``[compile]`` key with its effective value and where that value comes from."""
    from pretty_printer.circuit.compiler import TASK_TRAINING

    train = _train_fields()
    out: dict[str, tuple[Any, str]] = {}
    for name, (hint, default) in compile_params().items():
        if schema._hint_kind(hint)[0] == "dataclass":
            cls = schema._hint_kind(hint)[1]
            given = table.get(name, {})
            base = dataclasses.asdict(default) if dataclasses.is_dataclass(default) else schema.field_defaults(cls)
            for sub, val in base.items():
                out[f"{name}.{sub}"] = (given[sub], "preset") if sub in given else (val, "default")
        elif name in table:
            out[name] = (table[name], "preset")
        elif default is None and name in train:
            per_task = TASK_TRAINING.get(task, {})
            out[name] = ((per_task[name], f"task {task!r} default") if name in per_task
                         else (train[name], "TrainConfig default"))
        else:
            out[name] = (default, "default")
    return out


def keys() -> list[schema.Key]:
    """:class:`~pretty_printer.dataset.schema.Key` rows for ``[compile]``."""
    from pretty_printer.task.training import TrainConfig

    train = {r.key: r.bounds for r in schema.table_keys("compile", TrainConfig)}
    rows = []
    for name, (hint, default) in compile_params().items():
        kind, cls = schema._hint_kind(hint)
        if kind == "dataclass":
            rows += schema.table_keys(f"compile.{name}", cls)
            continue
        choices = _choices(name)
        bounds = f"one of: {', '.join(choices)}" if choices else ""
        if f"compile.{name}" in train:
            bounds = train[f"compile.{name}"]
            default = "per task" if default is None else default
        rows.append(schema.Key(f"compile.{name}", schema.type_name(hint), schema.unit_of(name), default,
                               bounds, "compile_task"))
    return rows
