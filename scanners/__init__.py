"""Imaging physics: EM, expansion microscopy and X-ray nanotomography.

Scanners see tissue only through a :class:`scanners.tissue.TissueFunction` and work chunk by
chunk with halos.  Never imports ``pretty_printer`` or ``phantoms``.

>>> import scanners
>>> scanner = scanners.make_scanner({"preset": "sbem", "voxel_nm": [40, 16, 16]})
>>> scanner.output_shape((400, 1600, 1600))
(1, 10, 100, 100)
"""

from .tissue import FIELDS, TissueFunction  # noqa: F401
from .registry import SCANNERS, UnknownScannerError  # noqa: F401
from .base import Scanner  # noqa: F401
from .config import load_preset, make_scanner, preset_names  # noqa: F401
from .em import EMConfig, EMScanner  # noqa: F401
from .exm import ExMConfig, ExMScanner  # noqa: F401
from .xray import XrayConfig, XrayScanner  # noqa: F401
