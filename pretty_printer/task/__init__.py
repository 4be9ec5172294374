"""Known computations: the task zoo (:mod:`.tasks`) and Dale's-law ANN training (:mod:`.training`).
"""
