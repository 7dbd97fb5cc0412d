"""The cyclebench leaderboard: submissions, their validation by re-scoring, and a static site.

A submission is a folder ``leaderboard/submissions/<date>_<name>/`` holding ``metadata.yaml``,
``results.json`` and ``predictions.jsonl`` exactly as an evaluation run wrote them. ``validate`` reads
those files as data only (size-limited, no code, no YAML tags), checks them against versioned JSON Schemas,
and recomputes every claimed figure from the predictions against a local build of the named dataset;
``site`` renders the verified submissions, the published reference numbers and the human proxy row into
plain HTML. Modules: ``safe_read`` (bounded parsing), ``schema_check``, ``validate`` (every check, in
order), ``datasets`` (the builds given per task), ``match`` (predictions to a build, then re-scored),
``rescore`` (pure re-scoring and comparison), ``outcome``, ``submit``, ``columns`` and ``reported``
(published numbers), ``site``, ``seed`` (the seeded submissions).
"""

SCHEMA_VERSION = 1
