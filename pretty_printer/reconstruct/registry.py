"""The registry of reconstruction methods (filled by the method modules when they are imported)."""

from __future__ import annotations

from pretty_printer.registry import Registry

#: ``truth`` and one ``baseline:<modality>`` entry per modality; see :mod:`.methods`.
METHODS: Registry = Registry("reconstruction method")
