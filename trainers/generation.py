"""What the Iterative SimPO loop needs from a paper-generation protocol, and how a name becomes one.

The loop only asks two things of a generator (REFERENCE 1.3 describes the CycleResearcher format): the chat
messages for a prompt record (a topic plus its BibTeX references) and, for a sampled output, the paper text a
reviewer model reads (``None`` when the output cannot be read as a paper; the loop counts it and leaves the
sample out of the pairs). ``sampling`` holds the protocol's generation defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PaperGenerator(Protocol):
    name: str
    sampling: dict[str, Any]

    def build_prompt(self, record: Mapping[str, Any]) -> list[dict[str, str]]:
        """Chat messages asking the policy for a paper on this record's topic and references."""

    def to_paper_text(self, output: str) -> str | None:
        """The paper a reviewer reads, or None when the output is not a readable paper."""


class CycleResearcherGenerator:
    """The CycleResearcher format (:mod:`cyclebench.protocols.cycleresearcher`) seen as a :class:`PaperGenerator`.

    The prompt is a Research-14K record's system + user turns (``messages[0:2]``, exactly as in training), or
    one rebuilt from its ``references`` (and ``topic``) when the messages are unusable, as
    :func:`cyclebench.generation.prompts_from_rows` does. The sampled output is one completion; when the model
    wrote through its turn into ``## Experimental_results`` and part 2 (the original's one-pass generation),
    all of it is read. A paper whose parse ``status`` is ``"failed"`` (no title, abstract or LaTeX) is
    unreadable.
    """

    name = "cycleresearcher"

    def __init__(self) -> None:
        from cyclebench.protocols import cycleresearcher

        self._protocol = cycleresearcher
        self.sampling = cycleresearcher.default_sampling()

    def build_prompt(self, record: Mapping[str, Any]) -> list[dict[str, str]]:
        from cyclebench.generation import original_row, prompts_from_rows

        prompts, skipped, _notes = prompts_from_rows([original_row(dict(record))])
        if not prompts:
            from cyclebench.records import RecordError

            raise RecordError(next(iter(skipped), "no_prompt"))
        return [dict(m) for m in prompts[0].messages]

    def to_paper_text(self, output: str) -> str | None:
        paper = self._protocol.parse_generation(output)
        if paper.status == "failed":
            return None
        text = paper.text()
        return text if text.strip() else None


def build_generator(name: str, **options: Any) -> PaperGenerator:
    """The generation protocol called ``name`` (``cycleresearcher``)."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key != "cycleresearcher":
        raise ValueError(f"unknown generation protocol {name!r}; known: cycleresearcher")
    if options:
        raise ValueError(f"the cycleresearcher generation protocol takes no options, got {sorted(options)}")
    return CycleResearcherGenerator()
