"""kpisheet domain core: rulebook, scoring, grading, calibration, findings and reading submissions.

Pure Python; never imports xlwings.
"""
