"""Outside formats: NeuroML2 (:mod:`.neuroml`) and CREMI HDF5 (:mod:`.cremi`).
"""
