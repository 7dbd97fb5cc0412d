"""File helpers every writer shares: content hashes and all-or-nothing writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (inputs can be large PDFs or shards)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: str | Path) -> str:
    """sha256 of a file; for a folder (a LaTeX project), of its sorted (relative path, file sha256) list."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        digest.update(p.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        digest.update(sha256_file(p).encode("ascii") + b"\n")
    return digest.hexdigest()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write beside the target, then rename: a reader sees the old file or the new one, never half."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
