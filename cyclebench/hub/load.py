"""The one reader of built datasets: a local folder in the Hub layout, the original WestlakeNLP files, or a
Hub repo id pinned to a revision; and the one fingerprint that names what a run read.

A built folder uses the Hub layout (README.md with ``configs:`` YAML + parquet files). Its card is read here
the one checked way every reader shares (tasks, trainers, ``check-overlap``, the decontamination step,
``publish``): a broken card is one line naming it, and a ``data_files`` path that would lead outside the
folder (``../x``, an absolute path, a link) is refused instead of read or rewritten. Local rows are read
straight from the parquet shards the card names (no ``datasets`` import); Hub rows through
``datasets.load_dataset`` at the given revision. Column names live in :mod:`cyclebench.hub.columns`.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cyclebench.fileio import sha256_file

__all__ = ["CARD_NAME", "ORIGINAL_SUFFIXES", "CardConfig", "card_configs", "config_files", "dataset_files",
           "dataset_fingerprint", "decoded_cell", "is_local", "iter_table", "load_built_dataset", "named_config",
           "original_file", "read_card", "read_front_matter", "read_rows", "read_split"]

CARD_NAME = "README.md"
# How the original files of a split are named: ``<split>.csv`` first (WestlakeNLP ships CSV).
ORIGINAL_SUFFIXES = (".csv", ".parquet", ".jsonl", ".json")


@dataclass(frozen=True)
class CardConfig:
    """One entry of a card's ``configs``: its name and, per split, the file patterns (relative to the folder)."""

    name: str
    splits: dict[str, tuple[str, ...]]


def read_front_matter(folder: str | Path) -> dict[str, Any] | None:
    """The YAML front matter of ``folder``'s card; None when there is no card or no front matter. A card
    that cannot be read (not UTF-8, broken YAML) is one ``ValueError`` naming it, not a parser traceback."""
    return read_card(folder)[0]


def read_card(folder: str | Path) -> tuple[dict[str, Any] | None, str]:
    """``folder``'s card as (front matter, the prose after it); (None, whole text) when it has no front
    matter, (None, "") when there is no card. Errors as :func:`read_front_matter`."""
    import yaml

    card = Path(folder) / CARD_NAME
    if not card.is_file():
        return None, ""
    try:
        text = card.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{card}: not a UTF-8 text file") from None
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, text
    try:
        data = _parse_yaml(text[4:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # +2: the opening "---" line
        raise ValueError(f"{card}: invalid YAML front matter{where}: {getattr(exc, 'problem', None) or exc}") from None
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, absurd nesting
        raise ValueError(f"{card}: the front matter cannot be read: {' '.join(str(exc).split())[:120]}") from None
    return (data if isinstance(data, dict) else None), text[end + len("\n---\n"):]


def _parse_yaml(text: str) -> Any:
    """The C parser (10x faster on a large card) when built; a failure is parsed again by the pure-Python one,
    whose error names the line and the problem the same way on every install."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


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


# ---------------------------------------------------------------------------------------------
# Which files hold a split


def original_file(folder: str | Path, split: str) -> Path | None:
    """``<folder>/<split>.csv|.parquet|.jsonl|.json`` (how the WestlakeNLP originals ship), if there is one.
    Where it exists it is what the split is read from and fingerprinted by, card or not."""
    for suffix in ORIGINAL_SUFFIXES:
        candidate = Path(folder) / f"{split}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def named_config(folder: str | Path, configs: Sequence[CardConfig], name: str) -> CardConfig:
    for entry in configs:
        if entry.name == name:
            return entry
    raise ValueError(f"{folder}: the card has no config {name!r}; configs: {[c.name for c in configs]}")


def dataset_files(folder: str | Path, config: str = "default") -> dict[str, list[Path]]:
    """Files of each split of a dataset folder's ``config``: from the card's ``configs`` (a Hub-layout folder;
    patterns checked to stay inside the folder, see :func:`card_configs`), else the
    ``<split>.parquet|.csv|.jsonl|.json`` files at the top (the original WestlakeNLP files)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"not a dataset folder: {folder}")
    configs = card_configs(folder)
    if configs is not None:
        return config_files(folder, named_config(folder, configs, config))
    out: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in ORIGINAL_SUFFIXES and path.stem != "manifest":
            out.setdefault(path.stem, []).append(path)
    if not out:
        raise ValueError(f"{folder}: no dataset card with configs and no <split>.parquet/.csv/.jsonl files")
    return out


def _card_split_files(folder: Path, config: str, split: str) -> list[Path]:
    """The files of one split of a built folder, from its card (the reader tasks and trainers share)."""
    if not (folder / CARD_NAME).is_file():
        raise FileNotFoundError(f"{folder} has no README.md: not a dataset folder in the Hub layout")
    configs = card_configs(folder)
    if configs is None:
        raise ValueError(f"{folder / CARD_NAME} has no YAML front matter with configs")
    files = config_files(folder, named_config(folder, configs, config))
    if split not in files:
        raise ValueError(f"{folder}: config {config!r} has no split {split!r} (has {sorted(files)})")
    if not files[split]:
        raise FileNotFoundError(f"{folder}: no files match config {config!r} split {split!r}")
    return files[split]


# ---------------------------------------------------------------------------------------------
# Rows


def decoded_cell(value: Any) -> Any:
    """A JSON-encoded cell (the original CSV files store messages, sections ... as JSON text) decoded;
    anything else, including text that is not JSON or nests too deep for the decoder (``[[[[...``), as is:
    the reader then skips the row with its reason instead of crashing."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            return value
    return value


def iter_table(path: str | Path, columns: Sequence[str] | None = None) -> Iterator[Any]:
    """Rows of one CSV / parquet / JSON / JSONL file as parsed (CSV cells can hold whole papers; a JSON line
    may be any value, which the caller counts). ``columns`` narrows what a parquet file reads. A file that
    cannot be read (not UTF-8, bad JSON or CSV, not parquet) is one ``ValueError`` naming it and how far it got."""
    path = Path(path)
    rows = 0
    try:
        for row in _table_rows(path, columns):
            rows += 1
            yield row
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text (after {rows} rows); convert the file to UTF-8") from None
    except (ValueError, csv.Error, OSError, RecursionError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ValueError(f"{path}: cannot be read as a {path.suffix.lstrip('.')} table (after {rows} rows): "
                         f"{reason}") from None


def _table_rows(path: Path, columns: Sequence[str] | None) -> Iterator[Any]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        with open(path, newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(path)
        wanted = None if columns is None else [c for c in columns if c in handle.schema_arrow.names]
        for batch in handle.iter_batches(batch_size=512, columns=wanted):
            yield from batch.to_pylist()
    elif suffix in (".jsonl", ".json"):
        with open(path, encoding="utf-8") as handle:
            if suffix == ".json":
                data = json.load(handle)
                yield from data if isinstance(data, list) else [data]
            else:
                for line in handle:
                    if line.strip():
                        yield json.loads(line)
    else:
        raise ValueError(f"unsupported file type: {path}")


def read_split(data: str | Path, split: str, *, config: str | None = None,
               revision: str | None = None) -> Iterator[dict[str, Any]]:
    """Rows of one split, wherever they are: a single table file as is; in a local folder the split's
    original file (:func:`original_file`) when there is one, else the parquet files the card names for
    ``config`` (``default`` when None); a Hub repo id through ``datasets.load_dataset`` at ``revision``."""
    path = Path(data)
    if path.is_file():
        yield from iter_table(path)
        return
    if is_local(data):
        original = original_file(path, split)
        if original is not None:
            yield from iter_table(original)
            return
        import pyarrow.parquet as pq

        for shard in _card_split_files(path, config or "default", split):
            yield from pq.read_table(shard).to_pylist()
        return
    from datasets import load_dataset

    yield from load_dataset(str(data), config, split=split, revision=revision)


def read_rows(data: str | Path, config: str, splits: Iterable[str], revision: str | None) -> list[dict[str, Any]]:
    """Rows of a config's splits, in split order (see :func:`read_split`)."""
    return [row for split in splits for row in read_split(data, split, config=config, revision=revision)]


# ---------------------------------------------------------------------------------------------
# The fingerprint


def is_local(data: str | Path) -> bool:
    return Path(data).exists()


def dataset_fingerprint(data: str | Path, revision: str | None = None,
                        split: str | None = None) -> tuple[str, dict[str, Any]]:
    """The one name of the data a run read, written into results and matched by the leaderboard.

    A split read from its original file (:func:`original_file`) is the sha256 of that file; a build is the
    sha256 of its manifest's ``shards`` (each shard's sha256, so rebuilding the same rows gives the same
    name); a folder without a manifest the sha256 of its parquet files; a Hub dataset ``hub:repo@revision``.
    One file given as the data (an original file, whatever its name) is the sha256 of that file.
    Returns the fingerprint and where the data came from (for the results' provenance)."""
    if is_local(data) and Path(data).is_file():
        return f"sha256:{sha256_file(data)}", {"path": str(data)}
    if is_local(data):
        folder = Path(data)
        original = original_file(folder, split) if split is not None else None
        if original is not None:
            return f"sha256:{sha256_file(original)}", {"path": str(original)}
        manifest = folder / "manifest.json"
        if manifest.is_file():
            content = json.loads(manifest.read_text())
            shards = json.dumps(content.get("shards", {}), sort_keys=True)
            digest = hashlib.sha256(shards.encode()).hexdigest()
            return f"sha256:{digest}", {"path": str(folder), "builder": content.get("dataset"),
                                        "builder_version": content.get("builder_version")}
        files = sorted(p for p in folder.rglob("*.parquet"))
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.read_bytes())
        return f"sha256:{digest.hexdigest()}", {"path": str(folder)}
    if not revision:
        raise ValueError(f"{data!r} is not a local folder: give --revision (a tag such as v1.0.0) for a Hub dataset")
    return f"hub:{data}@{revision}", {"repo": str(data), "revision": revision}
