"""The Hub metadata of a dataset card: what users filter by on the Hub, checked against the Hub's vocabulary.

A card's YAML front matter is read by the Hub for its filters (language, task, size, license) and by
``datasets`` for the configs. The vocabularies below are the Hub's own (``huggingface.js`` tasks and
``datasets``' ``size_categories.json``), restricted to the values cyclebench's datasets use, so a typo in a
builder fails the build instead of silently dropping a dataset from a filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["HUB_TASKS", "SIZE_CATEGORIES", "CardMetadata", "size_category"]

# Hub task categories with the subtask ids (``task_ids``) each allows; only those cyclebench uses.
HUB_TASKS: Final[dict[str, frozenset[str]]] = {
    "text-generation": frozenset({"dialogue-modeling", "dialogue-generation", "conversational", "language-modeling"}),
    "text-classification": frozenset({"text-scoring", "multi-class-classification", "sentiment-scoring"}),
    "summarization": frozenset(),
}

# (upper bound exclusive, label), as ``datasets/utils/resources/size_categories.json`` names them.
SIZE_CATEGORIES: Final = (
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
)

# Hub license ids cyclebench's builders may write; anything else is ``other`` with a name and a link.
HUB_LICENSES: Final = frozenset({"cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "apache-2.0", "mit", "other"})


def size_category(rows: int) -> str:
    """The Hub's size bucket of a dataset with ``rows`` examples (``n<1K``, ``1K<n<10K`` ...)."""
    if rows < 0:
        raise ValueError(f"a row count cannot be negative: {rows}")
    for bound, label in SIZE_CATEGORIES:
        if rows < bound:
            return label
    return "n>1B"


@dataclass(frozen=True)
class CardMetadata:
    """The Hub fields of one card besides its configs (which the writer derives from the shards).

    ``license`` is a Hub license id; ``other`` (mixed sources) needs ``license_name`` (a slug) and
    ``license_link`` (where the terms are), as the Hub asks.
    """

    pretty_name: str
    license: str
    task_categories: tuple[str, ...]
    task_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    license_name: str | None = None
    license_link: str | None = None
    language: tuple[str, ...] = ("en",)
    # "original": built from raw sources, not extended from a dataset on the Hub.
    source_datasets: tuple[str, ...] = ("original",)

    def __post_init__(self) -> None:
        if not self.pretty_name.strip():
            raise ValueError("a card needs a pretty_name")
        if self.license not in HUB_LICENSES:
            raise ValueError(f"license {self.license!r} is not one of {sorted(HUB_LICENSES)}; use 'other' with "
                             "license_name and license_link")
        if self.license == "other" and not (self.license_name and self.license_link):
            raise ValueError("license 'other' needs license_name and license_link (the Hub shows them)")
        if self.license != "other" and (self.license_name or self.license_link):
            raise ValueError(f"license_name / license_link are for license 'other', not {self.license!r}")
        unknown = [c for c in self.task_categories if c not in HUB_TASKS]
        if not self.task_categories or unknown:
            raise ValueError(f"task_categories must be Hub task categories ({sorted(HUB_TASKS)}), not {unknown or '[]'}")
        allowed = set().union(*(HUB_TASKS[c] for c in self.task_categories))
        stray = [t for t in self.task_ids if t not in allowed]
        if stray:
            raise ValueError(f"task_ids {stray} are not subtasks of {list(self.task_categories)}")

    def front(self, rows: int) -> dict[str, Any]:
        """The metadata keys of the front matter, in the order the Hub's template writes them."""
        front: dict[str, Any] = {"pretty_name": self.pretty_name, "language": list(self.language),
                                 "license": self.license}
        if self.license == "other":
            front.update(license_name=self.license_name, license_link=self.license_link)
        front["size_categories"] = [size_category(rows)]
        front["source_datasets"] = list(self.source_datasets)
        front["task_categories"] = list(self.task_categories)
        if self.task_ids:
            front["task_ids"] = list(self.task_ids)
        front["tags"] = list(self.tags)
        return front
