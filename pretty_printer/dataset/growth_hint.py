"""When a circuit does not grow in its block: find a block size that does, for the error message.

Growth fails when somata find no room or a connection finds no collision-free apposition.  The
honest answer to "how big must the block be?" is to try: the same circuit and the same growth seed
are grown in blocks scaled up by :data:`SCALES` (somata are placed first, which is cheap, and only
sizes where they fit are grown in full), and the first size that grows is reported.
"""

from __future__ import annotations

import math
from dataclasses import replace

#: Block scale factors tried, smallest first (all three axes scale together).
SCALES = (1.25, 1.5, 2.0, 3.0)
#: At most this many full growths are attempted (each can take as long as the failed one).
MAX_FULL_GROWTHS = 2


def scaled_block(block_nm, factor: float) -> tuple[float, float, float]:
    """``block_nm`` times ``factor``, rounded up to 100 nm."""
    return tuple(float(math.ceil(b * factor / 100.0) * 100.0) for b in block_nm)


def block_that_grows(spec, cfg, make_rng) -> tuple[float, float, float] | None:
    """The smallest block of :data:`SCALES` in which ``spec`` grows with the rngs ``make_rng()`` gives.

    Parameters
    ----------
    spec : phantoms.CircuitSpec
    cfg : phantoms.GrowthConfig
        The settings that failed; only ``block_nm`` is changed.
    make_rng : callable
        Returns a fresh generator of the growth seed (the same stream the failed growth used).

    Returns
    -------
    tuple of 3 floats (nm, z y x) or None if no size up to the largest scale grew.
    """
    import phantoms
    from phantoms.placement import place_somata

    tried = 0
    for factor in SCALES:
        trial = replace(cfg, block_nm=scaled_block(cfg.block_nm, factor))
        try:
            place_somata(spec, trial, make_rng().spawn(1)[0])
        except phantoms.GrowthError:
            continue
        if tried >= MAX_FULL_GROWTHS:
            return None
        tried += 1
        try:
            phantoms.grow(spec, trial, make_rng())
        except phantoms.GrowthError:
            continue
        return trial.block_nm
    return None


def advice(spec, cfg, make_rng) -> str:
    """The sentence appended to a growth failure: which ``tissue.block_nm`` would work."""
    block = block_that_grows(spec, cfg, make_rng)
    if block is None:
        return (f"no block up to {SCALES[-1]:g}x {list(cfg.block_nm)} nm grew with this seed; "
                "try fewer cells, smaller tissue sizes or another --seed")
    return (f"enlarge tissue.block_nm to at least {[int(b) for b in block]} nm "
            "(this circuit and seed grow there)")
