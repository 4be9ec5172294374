"""What a pipeline under test hands in: the submission format, reader and validators
(:mod:`.format`) and controlled error injection (:mod:`.perturb`).
"""
