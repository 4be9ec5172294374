"""Geometry and molecules of synthetic neural tissue.

Grows a circuit (:class:`phantoms.spec.CircuitSpec`) into 3D morphologies with synapses at
real appositions, receptor and channel densities and barcodes, and rasterizes any region at any
voxel size on demand.  Never imports ``pretty_printer``.
"""

from .spec import CellSpec, CircuitSpec, EdgeSpec  # noqa: F401
