"""From a trained ANN to a circuit of Hodgkin-Huxley cells: the plain circuit description
(:mod:`.description`), the cell models (:mod:`.cellmodels`) and the compiler (:mod:`.compiler`).
"""
