"""What a block under a task's tables is: the records section hooks return and the context they read.

Apart from the site so that a module that provides a hook (the pairwise tables) imports these records, not the
site, and the site imports the hook: one direction, no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    caption: str
    path: str  # relative to the site root
    alt: str = ""


@dataclass
class Section:
    """A block a hook adds under a task's tables: text, figures and a small table of plain-text cells.
    Every string is escaped when rendered, so a hook never writes HTML."""
    task: str
    title: str
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    slug: str = ""


@dataclass(frozen=True)
class SiteContext:
    """What a section hook may read, and ``scratch``: the site folder being written (files go under it)."""
    tables: list[Any]  # the site's Table records
    verifications: list[Any]  # validate's Verification records
    submissions: Path
    datasets: Any  # validate's DatasetBuilds
    scratch: Path


SectionHook = Callable[[SiteContext], list[Section]]
