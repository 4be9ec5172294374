"""Sweeps over preset keys (:mod:`.sweep`) and the built-in studies (:mod:`.builtin`).
"""
