"""NEURON: the only package that touches ``neuron.h``.  Point-cell and multi-compartment simulation
(:mod:`.neuron_backend`), measured f-I curves (:mod:`.fi`), grown morphologies as NEURON cells
(:mod:`.morphology`) and their recalibration (:mod:`.morphology_calibration`).
"""
