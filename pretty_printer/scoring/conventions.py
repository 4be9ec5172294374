"""The scorer's conventions, each written once (read by the metrics, the scorer, ``score --help``
and the README).  Importing this module is cheap (no numpy), so the CLI parser can show them.
"""

from __future__ import annotations

#: Synaptic-partner matching distance (nm): a predicted pair matches a true one when each end lies
#: within this distance of the true end.  CREMI's own evaluation uses 400 nm; we use 200 nm,
#: because a ``tiny`` bouton is ~500 nm across and 400 nm would accept the neighbouring synapse.
SYNAPSE_THRESHOLD_NM = 200.0

#: A synapse site (pre or post position) in an unassigned voxel (label 0) resolves to a segment
#: by looking at most this far (nm): first along the ray from its partner site through it (away
#: from the cleft, into its own neurite), then, if that finds nothing, the nearest labelled voxel
#: centre.  Beyond this radius the site stays unassigned (its synapse cannot match).
SITE_RADIUS_NM = 100.0

#: How unassigned submission voxels (label 0) count in VI and ARAND.
#: ``"singletons"`` (default): each unassigned voxel is its own segment (SNEMI3D-style; leaving
#: voxels unassigned costs splits).  ``"cremi"``: label 0 is an ordinary label, as in CREMI's
#: ``voi`` (all unassigned voxels together form one segment, so leaving them unassigned costs merges).
#: In both, voxels whose *ground-truth* label is 0 (extracellular space) are not scored.
VI_CONVENTIONS = ("singletons", "cremi")
DEFAULT_VI_CONVENTION = "singletons"
