"""Look up a reconstruction method by the names a user types.

A method is a function ``(dataset: Dataset, modality: str, *, rng) -> Submission`` registered in
:data:`~pretty_printer.reconstruct.registry.METHODS`: ``truth`` (the perfect submission) and one
``baseline:<modality>`` per modality.  The method modules are imported explicitly here, so a
missing one is an import error, never a silently absent method.
"""

from __future__ import annotations

from pretty_printer.errors import UnknownNameError
from pretty_printer.reconstruct import baseline_em, baseline_exm, baseline_xray, truth  # noqa: F401  (register)
from pretty_printer.reconstruct.registry import METHODS


def get_method(method: str, modality: str):
    """The reconstruction function for ``method`` (``baseline`` or ``truth``) and ``modality``.

    Raises
    ------
    UnknownNameError
        ``method`` is not a registered name; the message lists the valid ones.
    """
    names = sorted({n.split(":")[0] for n in METHODS.names()})  # what a user types: baseline, truth
    if method not in names:
        raise UnknownNameError(f"--method: unknown reconstruction method {method!r}; expected one of: {', '.join(names)}")
    if method == "baseline":
        return METHODS.get(f"baseline:{modality}")
    return METHODS.get(method)
