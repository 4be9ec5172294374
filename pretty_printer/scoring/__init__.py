"""From a submission to a scorecard: structural metrics (:mod:`.metrics`), the rules that rebuild a
circuit from a submission (:mod:`.rebuild`) and the scorer (:mod:`.score`).
"""
