"""Geometry and molecules of synthetic neural tissue.

Grows a circuit (:class:`phantoms.spec.CircuitSpec`) into 3D morphologies with synapses at
real appositions, receptor and channel densities and barcodes, and rasterizes any region at any
voxel size on demand.  Never imports ``pretty_printer``.
"""

from .spec import CellSpec, CircuitSpec, EdgeSpec  # noqa: F401
from .config import GrowthConfig, GrowthError  # noqa: F401
from .examples import layered_spec, xor_spec  # noqa: F401
from .growth import grow  # noqa: F401
from .phantom import Phantom, Skeleton, SynapseTable, load_phantom  # noqa: F401
from .rasterize import FIELDS as RASTER_FIELDS, rasterize  # noqa: F401
from .shapes import cylinder_phantom  # noqa: F401
from .tissue import PhantomTissue, tissue_function  # noqa: F401
from .export import cell_mesh, write_exports, write_swc  # noqa: F401
from .morphometrics import morphometrics  # noqa: F401
