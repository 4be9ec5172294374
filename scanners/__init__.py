"""Imaging physics: EM, expansion microscopy and X-ray nanotomography.

Scanners see tissue only through a :class:`scanners.tissue.TissueFunction` and work chunk by
chunk with halos.  Never imports ``pretty_printer`` or ``phantoms``.
"""

from .tissue import FIELDS, TissueFunction  # noqa: F401
