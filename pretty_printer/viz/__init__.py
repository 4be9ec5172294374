"""Pictures and reports: ``show`` previews (:mod:`.show`) and the HTML scorecard (:mod:`.report`).
"""
