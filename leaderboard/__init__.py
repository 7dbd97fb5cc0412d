"""The cyclebench leaderboard: submissions, their validation by re-scoring, and a static site.

A submission is a folder ``leaderboard/submissions/<date>_<name>/`` holding ``metadata.yaml``,
``results.json`` and ``predictions.jsonl`` exactly as an evaluation run wrote them. ``validate`` reads
those files as data only (size-limited, no code, no YAML tags), checks them against versioned JSON Schemas,
re-parses every raw output (the submitted parsed fields are claims), and recomputes every claimed figure
from the re-parse against a local build of the named dataset; a claimed baseline is re-run and must
reproduce. ``site`` renders the verified submissions, the published reference numbers and the human proxy
row into plain HTML. Modules: ``safe_read`` (bounded parsing), ``schema_check``, ``validate`` (every
check, in order), ``datasets`` (the builds given per task), ``reparse`` (raw outputs parsed again),
``duplicates`` (by file, identity and content), ``match`` (predictions to a build, then re-scored),
``rescore`` (pure re-scoring and comparison), ``reproduce`` (baseline re-runs), ``outcome``, ``submit``,
``columns`` and ``reported`` (published numbers), ``site``, ``seed`` (the seeded submissions).
"""

SCHEMA_VERSION = 1
