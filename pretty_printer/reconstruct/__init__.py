"""Reconstruction: from images (or the truth) to a submission.

``truth`` builds the perfect submission; ``baseline_em``, ``baseline_exm`` and ``baseline_xray``
are simple per-modality pipelines.  Look methods up with :func:`.methods.get_method`.
"""
