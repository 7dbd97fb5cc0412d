"""AI-text detection: Fast-DetectGPT's analytic criterion over models the hf backend loads, a probability from
distributions calibrated and shipped here (``calibration.json``), and the ``cyclebench detect`` run.

Modules: ``criterion`` (pure torch), ``calibration`` (normal fits, P(machine)), ``scorer`` (models, chunks,
batches), ``items`` (records), ``inputs`` (papers, JSONL, a dataset's reviews), ``run`` (detections.jsonl,
results.json, report.md with a histogram). Importing this package loads no torch.
"""
