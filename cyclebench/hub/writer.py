"""Write a dataset folder in the Hugging Face Hub layout, atomically and byte-reproducibly.

Layout (what ``datasets.load_dataset(folder_or_repo, config)`` reads without a loading script):

    README.md                      card: YAML front matter with ``configs`` (data_files per split) and
                                   ``dataset_info``, then the prose (license, citation, how it was built)
    data/train-00000-of-00002.parquet   the ``default`` config
    <config>/<split>-*.parquet          every other config
    manifest.json / rejects.jsonl       provenance, not data (not listed in ``configs``)

Rows stream in; each split is cut into shards of at most ``max_rows_per_shard`` rows, written under
``.part`` names and renamed once the total is known. The whole folder is assembled beside the target and
renamed into place at the end, so an interrupted build leaves no half dataset. Parquet files carry no
timestamps, so the same rows give the same bytes. The folder also holds ``.cyclebench-output.json``
(``cyclebench.outputs``): hidden, unlisted in the card and the manifest, never published.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from cyclebench.fileio import sha256_file  # noqa: F401  (re-exported for builders)
from cyclebench.hub.card import CardMetadata
from cyclebench.outputs import FolderTransaction, OutputMarker

ROW_GROUP_SIZE = 256
# snappy: what `datasets` itself writes; twice as fast as zstd here for ~15% larger shards.
COMPRESSION = "snappy"


def config_dir(config: str) -> str:
    return "data" if config == "default" else config


class _SplitWriter:
    def __init__(self, folder: Path, config: str, split: str, schema: pa.Schema, max_rows: int):
        self.folder = folder / config_dir(config)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.split = split
        self.schema = schema
        self.max_rows = max_rows
        self.buffer: list[dict[str, Any]] = []
        self.rows_in_shard = 0
        self.total_rows = 0
        self.parts: list[Path] = []
        self.writer: pq.ParquetWriter | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= ROW_GROUP_SIZE or self.rows_in_shard + len(self.buffer) >= self.max_rows:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        if self.writer is None:
            part = self.folder / f"{self.split}-{len(self.parts):05d}.parquet.part"
            self.parts.append(part)
            self.writer = pq.ParquetWriter(part, self.schema, compression=COMPRESSION, write_statistics=True)
        table = pa.Table.from_pylist(self.buffer, schema=self.schema)
        self.writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
        self.rows_in_shard += len(self.buffer)
        self.total_rows += len(self.buffer)
        self.buffer = []
        if self.rows_in_shard >= self.max_rows:
            self._close_shard()

    def _close_shard(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.rows_in_shard = 0

    def finish(self) -> list[Path]:
        self._flush()
        self._close_shard()
        # An empty split writes no shard: `datasets` cannot load a split whose only file has no rows, so
        # the card leaves it out and the manifest says so (see ``card_front_matter``).
        final = []
        for index, part in enumerate(self.parts):
            target = self.folder / f"{self.split}-{index:05d}-of-{len(self.parts):05d}.parquet"
            part.rename(target)
            final.append(target)
        return final


class HubFolderWriter:
    """Streams rows of several configs and splits into a Hub-layout folder that appears atomically.

    Use as a context manager: on an exception the scratch folder is removed and ``out`` is untouched.
    """

    def __init__(
        self,
        out: str | Path,
        schemas: dict[str, pa.Schema],
        splits: dict[str, list[str]],
        *,
        max_rows_per_shard: int = 2000,
        overwrite: bool = False,
        inputs: Iterable[str | Path] = (),
    ):
        # The folder is assembled beside ``out`` and renamed into place: see ``cyclebench.outputs`` for the
        # rules (never over an input, only over a folder cyclebench wrote, a concurrent build loses cleanly).
        self._transaction = FolderTransaction(out, OutputMarker("dataset"), overwrite=overwrite, inputs=inputs)
        self.out = self._transaction.out
        self.overwrite = overwrite
        self.scratch = self._transaction.scratch
        self.schemas = schemas
        self.splits = splits
        try:
            self._writers = {
                (config, split): _SplitWriter(self.scratch, config, split, schemas[config], max_rows_per_shard)
                for config, config_splits in splits.items()
                for split in config_splits
            }
        except BaseException as exc:
            self._transaction.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.shards: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> HubFolderWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Remove the scratch unless committed; a write failure (full disk, read-only) becomes one line."""
        self._transaction.__exit__(exc_type, exc, tb)

    def add(self, config: str, split: str, row: dict[str, Any]) -> None:
        self._writers[(config, split)].add(row)

    def add_many(self, config: str, split: str, rows: Iterable[dict[str, Any]]) -> None:
        writer = self._writers[(config, split)]
        for row in rows:
            writer.add(row)

    def finish_shards(self) -> dict[str, dict[str, Any]]:
        """Close every split; returns ``{relative shard path: {sha256, rows, bytes}}`` in path order."""
        for (config, split), writer in self._writers.items():
            for path in writer.finish():
                rel = path.relative_to(self.scratch).as_posix()
                self.shards[rel] = {
                    "config": config,
                    "split": split,
                    "rows": pq.ParquetFile(path).metadata.num_rows,
                    "bytes": path.stat().st_size,
                    "sha256": sha256_file(path),
                }
        self.shards = dict(sorted(self.shards.items()))
        for writer in self._writers.values():
            if writer.folder.is_dir() and not any(writer.folder.iterdir()):
                writer.folder.rmdir()
        return self.shards

    def split_rows(self) -> dict[str, dict[str, int]]:
        """Rows per config and split, in the order the configs and splits were declared (0 = no shard)."""
        return {
            config: {
                split: sum(s["rows"] for s in self.shards.values() if s["config"] == config and s["split"] == split)
                for split in config_splits
            }
            for config, config_splits in self.splits.items()
        }

    def write_text(self, name: str, text: str) -> None:
        (self.scratch / name).write_text(text, encoding="utf-8")

    def commit(self) -> Path:
        """Move the finished folder into place (replacing an old one only when ``overwrite`` and it is a
        dataset folder cyclebench wrote; the check is made at the rename)."""
        return self._transaction.commit()


# ---------------------------------------------------------------------------------------------
# The card's YAML


def features_yaml(schema: pa.Schema) -> list[dict[str, Any]]:
    """The ``features`` list of ``dataset_info`` in the form ``datasets`` writes (checked in the tests);
    written here because importing ``datasets`` costs more than a small build."""
    return [{"name": f.name, **_feature(f.type)} for f in schema]


def _feature(arrow_type: pa.DataType) -> dict[str, Any]:
    if pa.types.is_struct(arrow_type):
        return {"struct": [{"name": f.name, **_feature(f.type)} for f in arrow_type]}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        inner = _feature(arrow_type.value_type)
        return {"list": inner["dtype"] if set(inner) == {"dtype"} else inner.get("struct", inner)}
    return {"dtype": _DTYPES.get(str(arrow_type), str(arrow_type))}


_DTYPES = {"double": "float64", "float": "float32", "halffloat": "float16"}


def card_front_matter(
    schemas: dict[str, pa.Schema],
    split_rows: dict[str, dict[str, int]],
    shards: dict[str, dict[str, Any]],
    metadata: CardMetadata | None = None,
    *,
    license_id: str | None = None,
    pretty_name: str | None = None,
    tags: list[str] | None = None,
) -> str:
    """YAML front matter listing every config's data files and features, in a stable order.

    A config is listed only when it has rows (``datasets`` cannot load a config without data files). A
    builder's card passes ``metadata`` (the Hub fields: language, tasks, license name and link; the size
    category is counted here from the ``default`` config's rows); ``license_id`` / ``pretty_name`` / ``tags``
    alone write the bare front matter of a throwaway folder (tests, fixtures)."""
    if metadata is None and (license_id is None or pretty_name is None):
        raise ValueError("card_front_matter needs metadata, or license_id and pretty_name")
    configs = []
    infos = []
    for config, schema in schemas.items():
        splits = {split: rows for split, rows in split_rows.get(config, {}).items() if rows}
        if not splits:
            continue
        configs.append(
            {
                "config_name": config,
                **({"default": True} if config == "default" else {}),
                "data_files": [
                    {"split": split, "path": f"{config_dir(config)}/{split}-*"} for split in splits
                ],
            }
        )
        infos.append(
            {
                "config_name": config,
                "features": features_yaml(schema),
                "splits": [
                    {
                        "name": split,
                        "num_examples": rows,
                        "num_bytes": sum(
                            s["bytes"] for s in shards.values() if s["config"] == config and s["split"] == split
                        ),
                    }
                    for split, rows in splits.items()
                ],
            }
        )
    if metadata is None:
        front: dict[str, Any] = {"license": license_id, "pretty_name": pretty_name, "tags": tags or []}
    else:
        counted = "default" if "default" in split_rows else next(iter(split_rows), None)
        front = metadata.front(sum(split_rows.get(counted, {}).values()) if counted else 0)
    front.update(configs=configs, dataset_info=infos)
    return front_matter_text(front)


def listed_configs(split_rows: dict[str, dict[str, int]]) -> list[str]:
    """The configs a card lists: those with at least one row (what ``card_front_matter`` writes)."""
    return [config for config, rows in split_rows.items() if any(rows.values())]


def front_matter_text(front: dict[str, Any]) -> str:
    """The card's front matter block (``---`` YAML ``---``) as every writer of a card writes it; read back by
    ``cyclebench.hub.load.read_front_matter``."""
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100) + "---\n"
