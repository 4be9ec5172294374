"""Structural metrics of the scorer: segmentation (VI, ARAND), ERL, synaptic partners,
connectome (edges, signs, weights, NRI) and receptor counts.

All functions are pure numpy/scipy and return plain Python numbers (or ``None``), ready for
JSON.  The conventions peers disagree on are pinned in each module's docstring:

* :mod:`.segmentation` — GT label 0 excluded; submission label 0 = singleton segments (or one
  ordinary segment, CREMI's convention, with ``unassigned="cremi"``); VI in bits; ARAND with self-pairs (CREMI/SNEMI3D).
* :mod:`.erl` — labels sampled at skeleton nodes; merge-aware variant zeroes segments that
  touch two skeletons.
* :mod:`.synapses` — both ends within ``threshold_nm`` (default in :mod:`..conventions`) and labels
  agree; one-to-one Hungarian matching on the mean end distance.
* :mod:`.connectome` — directed edge sets; NRI of Reilly et al. on terminal pairs.
* :mod:`.receptors` — absolute and relative count errors over matched synapses.
"""

from pretty_printer.scoring.metrics.connectome import connectome_scores, nri, terminal_count_table
from pretty_printer.scoring.metrics.erl import erl_scores, sample_labels
from pretty_printer.scoring.metrics.receptors import receptor_errors
from pretty_printer.scoring.metrics.segmentation import (
    Contingency,
    best_match,
    contingency,
    scores_from_contingency,
    segmentation_scores,
)
from pretty_printer.scoring.metrics.synapses import DEFAULT_THRESHOLD_NM, match_synapses, synapse_scores

__all__ = [
    "Contingency",
    "DEFAULT_THRESHOLD_NM",
    "best_match",
    "connectome_scores",
    "contingency",
    "erl_scores",
    "match_synapses",
    "nri",
    "receptor_errors",
    "sample_labels",
    "scores_from_contingency",
    "segmentation_scores",
    "synapse_scores",
    "terminal_count_table",
]
