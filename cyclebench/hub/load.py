"""Load a built dataset the same way whether it sits in a local folder or on the Hub.

A built folder uses the Hub layout (README.md with ``configs:`` YAML + parquet files), so
``datasets.load_dataset`` reads both; this wrapper only makes the local-vs-Hub choice explicit and
pins Hub loads to a revision (a release tag such as ``v1.0.0``) when one is given.

It also reads a built folder's card the one checked way every reader shares (``check-overlap``, the
decontamination step, ``publish``): a broken card is one line naming it, and a ``data_files`` path that
would lead outside the folder (``../x``, an absolute path, a link) is refused instead of read or rewritten.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["CARD_NAME", "CardConfig", "card_configs", "config_files", "load_built_dataset", "read_front_matter"]

CARD_NAME = "README.md"


@dataclass(frozen=True)
class CardConfig:
    """One entry of a card's ``configs``: its name and, per split, the file patterns (relative to the folder)."""

    name: str
    splits: dict[str, tuple[str, ...]]


def read_front_matter(folder: str | Path) -> dict[str, Any] | None:
    """The YAML front matter of ``folder``'s card; None when there is no card or no front matter. A card
    that cannot be read (not UTF-8, broken YAML) is one ``ValueError`` naming it, not a parser traceback."""
    import yaml

    card = Path(folder) / CARD_NAME
    if not card.is_file():
        return None
    try:
        text = card.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{card}: not a UTF-8 text file") from None
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end < 0:
        return None
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # +2: the opening "---" line
        raise ValueError(f"{card}: invalid YAML front matter{where}: {getattr(exc, 'problem', None) or exc}") from None
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, absurd nesting
        raise ValueError(f"{card}: the front matter cannot be read: {' '.join(str(exc).split())[:120]}") from None
    return data if isinstance(data, dict) else None


def card_configs(folder: str | Path, front: dict[str, Any] | None = None) -> list[CardConfig] | None:
    """The card's ``configs`` checked for shape (None when the card has none). Each entry must be a mapping
    with a string ``config_name`` (default ``default``) and ``data_files`` as a list of ``{split, path}``
    entries, ``path`` a relative pattern or a list of them, never leaving the folder (no absolute path, no
    ``..``, no URL). Any other shape is one ``ValueError`` naming the card and the entry."""
    card = Path(folder) / CARD_NAME
    front = read_front_matter(folder) if front is None else front
    if not front or "configs" not in front:
        return None
    entries = front["configs"]
    if not isinstance(entries, list):
        raise ValueError(f"{card}: configs must be a list of config entries, not {_kind(entries)}")
    return [_card_config(card, i, entry) for i, entry in enumerate(entries)]


def _kind(value: Any) -> str:
    return f"{repr(value)[:40]} ({type(value).__name__})"


def _card_config(card: Path, index: int, entry: Any) -> CardConfig:
    where = f"{card}: configs[{index}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} is {_kind(entry)}, not a mapping with config_name and data_files")
    name = entry.get("config_name", "default")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: config_name must be a non-empty string, not {_kind(name)}")
    files = entry.get("data_files", [])
    if not isinstance(files, list):
        raise ValueError(f"{where} ({name}): data_files must be a list of {{split, path}} entries, not {_kind(files)}")
    splits: dict[str, tuple[str, ...]] = {}
    for j, spec in enumerate(files):
        split, patterns = _data_files_entry(f"{where}.data_files[{j}] ({name})", spec)
        splits[split] = (*splits.get(split, ()), *patterns)
    return CardConfig(name, splits)


def _data_files_entry(where: str, spec: Any) -> tuple[str, tuple[str, ...]]:
    if not isinstance(spec, dict):
        raise ValueError(f"{where} is {_kind(spec)}, not a mapping with split and path")
    split, path = spec.get("split"), spec.get("path")
    if not isinstance(split, str) or not split:
        raise ValueError(f"{where}: split must be a non-empty string, not {_kind(split)}")
    patterns = path if isinstance(path, list) else [path]
    if not patterns:
        raise ValueError(f"{where}: path is an empty list")
    for pattern in patterns:
        _check_pattern(where, pattern)
    return split, tuple(patterns)


def _check_pattern(where: str, pattern: Any) -> None:
    """A data_files pattern stays inside the folder: relative, no ``..``, no URL or drive."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError(f"{where}: path must be a non-empty string, not {_kind(pattern)}")
    pure = PurePosixPath(pattern.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or "://" in pattern or ":" in pure.parts[0] or pattern.startswith("~"):
        raise ValueError(f"{where}: path {pattern!r} points outside the dataset folder; card paths must be "
                         "relative patterns inside it")


def config_files(folder: str | Path, config: CardConfig) -> dict[str, list[Path]]:
    """Per split, the regular files the config's patterns match (sorted, ``folder / relative``). A match
    that resolves outside the folder (through a link) is one ``ValueError`` naming the card entry."""
    folder = Path(folder)
    root = folder.resolve()
    out: dict[str, list[Path]] = {}
    for split, patterns in config.splits.items():
        found: set[str] = set()
        for pattern in patterns:
            for rel in glob.glob(pattern, root_dir=folder, recursive=True):
                real = (folder / rel).resolve()
                if real != root and root not in real.parents:
                    raise ValueError(f"{folder / CARD_NAME}: config {config.name!r} split {split!r} path {pattern!r} "
                                     f"matches {rel}, a link to {real}, outside the dataset folder")
                if real.is_file():
                    found.add(Path(rel).as_posix())
        out[split] = [folder / rel for rel in sorted(found)]
    return out


def load_built_dataset(
    path_or_repo: str | Path,
    config: str = "default",
    split: str | None = None,
    revision: str | None = None,
    **load_kwargs: Any,
):
    """Load ``config`` (and ``split``, else every split) from a local built folder or a Hub repo id.

    ``revision`` (tag, branch or commit) only means something on the Hub, so passing it with a local
    folder is an error rather than silently ignored. Extra keyword arguments (``cache_dir``,
    ``streaming``, ...) go to ``datasets.load_dataset``.
    """
    local = Path(path_or_repo).expanduser()
    is_local = local.is_dir()
    if is_local:
        if revision is not None:
            raise ValueError(
                f"revision={revision!r} given for the local folder {str(local)!r}; revisions only apply to Hub repos"
            )
        if not (local / "README.md").is_file():
            raise ValueError(f"{str(local)!r} has no README.md, so it is not a built dataset folder")
        for entry in card_configs(local) or []:  # a card naming files outside the folder is refused, not read
            config_files(local, entry)

    # Imported here: `datasets` is heavy and only needed when something is actually loaded.
    import datasets

    if is_local:
        return datasets.load_dataset(str(local), config, split=split, **load_kwargs)
    return datasets.load_dataset(str(path_or_repo), config, split=split, revision=revision, **load_kwargs)
