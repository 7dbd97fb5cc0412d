"""The Hub metadata of a card: size buckets at their edges, and a builder's typo refused before a card is written."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from cyclebench.hub.card import SIZE_CATEGORIES, CardMetadata, size_category
from cyclebench.hub.load import read_front_matter
from cyclebench.hub.writer import HubFolderWriter, card_front_matter


@pytest.mark.parametrize("rows,label", [
    (0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (9_999, "1K<n<10K"), (10_000, "10K<n<100K"),
    (999_999, "100K<n<1M"), (1_000_000, "1M<n<10M"), (10**9, "n>1B"),
])
def test_size_category_edges(rows, label):
    assert size_category(rows) == label


def test_size_categories_are_the_hubs():
    import datasets

    hub = json.loads((Path(datasets.__file__).parent / "utils" / "resources" / "size_categories.json").read_text())
    assert [label for _, label in SIZE_CATEGORIES] == hub[1:1 + len(SIZE_CATEGORIES)]
    with pytest.raises(ValueError, match="negative"):
        size_category(-1)


def _meta(**kw):
    return CardMetadata(**{"pretty_name": "Demo", "license": "cc-by-4.0", "task_categories": ("text-classification",),
                           **kw})


@pytest.mark.parametrize("kw,match", [
    ({"license": "other"}, "license_name and license_link"),
    ({"license": "other", "license_name": "x"}, "license_name and license_link"),
    ({"license_name": "x", "license_link": "https://x"}, "are for license 'other'"),
    ({"license": "CC-BY-4.0"}, "use 'other'"),
    ({"task_categories": ()}, "task_categories"),
    ({"task_categories": ("text-genaration",)}, "text-genaration"),
    ({"task_ids": ("language-modeling",)}, "not subtasks"),  # a text-generation subtask under classification
    ({"pretty_name": "  "}, "pretty_name"),
])
def test_bad_metadata_is_one_clear_error(kw, match):
    with pytest.raises(ValueError, match=match):
        _meta(**kw)


def test_front_matter_lists_configs_with_rows_and_counts_the_default(tmp_path):
    schema = pa.schema([pa.field("id", pa.string())])
    with HubFolderWriter(tmp_path / "ds", {"default": schema, "extra": schema},
                         {"default": ["train", "test"], "extra": ["train"]}) as writer:
        writer.add_many("default", "train", [{"id": str(i)} for i in range(1_200)])
        shards = writer.finish_shards()
        meta = _meta(license="other", license_name="mixed", license_link="https://example.org/terms",
                     task_ids=("text-scoring",), tags=("t",))
        writer.write_text("README.md", card_front_matter(writer.schemas, writer.split_rows(), shards, meta) + "# demo\n")
        folder = writer.commit()
    front = read_front_matter(folder)
    assert list(front)[:10] == ["pretty_name", "language", "license", "license_name", "license_link",
                                "size_categories", "source_datasets", "task_categories", "task_ids", "tags"]
    assert front["size_categories"] == ["1K<n<10K"]
    # Neither the empty test split nor the config without rows is listed: datasets could not load them.
    assert [c["config_name"] for c in front["configs"]] == ["default"]
    assert front["configs"][0]["data_files"] == [{"split": "train", "path": "data/train-*"}]


def test_front_matter_without_metadata_needs_license_and_name():
    with pytest.raises(ValueError, match="needs metadata"):
        card_front_matter({}, {}, {})
