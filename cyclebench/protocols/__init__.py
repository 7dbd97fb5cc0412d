"""Review protocols, one module per model family (``cyclereviewer``, ``deepreviewer``, ``aiscientist``).

Each protocol builds chat messages from a paper and parses the model's output into a
:class:`~cyclebench.records.ParsedReview`. Pure functions: no I/O, no model imports. The family modules are
imported only when :func:`get_protocol` asks for them.
"""

from cyclebench.protocols.base import (
    ReviewProtocol,
    ScoreReading,
    available_protocols,
    get_protocol,
    parse_score,
    read_decision,
    status_for,
)

__all__ = [
    "ReviewProtocol",
    "ScoreReading",
    "available_protocols",
    "get_protocol",
    "parse_score",
    "read_decision",
    "status_for",
]
