"""A dataset on disk: presets (:mod:`.presets`), the generate pipeline (:mod:`.generate`, :mod:`.stages`)
and the ``public/`` + ``truth/`` layout with its I/O (:mod:`.layout`).
"""
