"""``dataset_fingerprint`` of one file (an original WestlakeNLP file given as the data): the sha256 of its bytes,
so two different files never share a name (a file is not a folder with no parquet in it)."""

from __future__ import annotations

import hashlib

from cyclebench.hub.load import dataset_fingerprint


def test_a_single_file_is_fingerprinted_by_its_bytes(tmp_path):
    first, second = tmp_path / "sample.json", tmp_path / "other.json"
    first.write_text('[{"id": "a"}]')
    second.write_text('[{"id": "b"}]')
    fingerprint, source = dataset_fingerprint(first, split="test")
    assert fingerprint == "sha256:" + hashlib.sha256(first.read_bytes()).hexdigest()
    assert source == {"path": str(first)}
    assert dataset_fingerprint(second, split="test")[0] != fingerprint
    assert fingerprint != "sha256:" + hashlib.sha256(b"").hexdigest()
