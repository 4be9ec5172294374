"""neural-pretty-printer: synthetic ground truth for brain-emulation pipelines.

Data flow: Task -> ANN -> Circuit -> Phantom -> tissue -> scans -> submission -> scorecard.
See ``docs/design.md`` for the contracts.
"""

__version__ = "0.1.0"
