"""Literature retrieval: passages (abstracts) for a question, from a local BM25 index or Semantic Scholar.

Used by the run layer for DeepReviewer Best mode's literature turn (:mod:`cyclebench.literature`); the
protocols never import it (they receive answers, not retrievers).
"""

from cyclebench.retrieval.base import Passage, RetrievalError, Retriever

__all__ = ["Passage", "RetrievalError", "Retriever"]
