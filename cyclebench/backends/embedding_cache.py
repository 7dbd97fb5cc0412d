"""Text embeddings on disk, keyed by model + text hash, so a rerun of an embedding baseline embeds nothing twice.

The response cache (``cache.py``) already answers a rerun's requests, but a baseline still fits its heads on
the training texts first, and embedding those was nearly all of a rerun's time. This cache keeps one vector
per text:

    <folder>/<sha256(model key)[:16]>/model.json          the model key, for people
    <folder>/<sha256(model key)[:16]>/<k[:2]>/<k>.vec     k = sha256(model key + "\\n" + text)

The model key holds everything that changes a vector: the model and its package versions, the device, the
chunking and pooling settings. (Batch size is not in it: it changes only the order of float sums, not
which vector a text gets.) A ``.vec`` file is ``MAGIC``, the dimension (uint32, little endian), the float64
values and a sha256 over the key and the values; a file that is short, long, of another dimension, non-finite
or whose digest does not match (truncated, bit-flipped, copied from another key) is counted in ``corrupt``
and its text embedded again (and the file rewritten). Files are written to a temporary name and renamed, so a
killed run (or a second process writing the same vector) leaves whole files or none. A vector that cannot be
written (disk full, read-only folder) is counted in ``unwritten`` with one warning: the run keeps the vectors
it computed, only the next run computes them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"CBEMB1\n"
_DIM = struct.Struct("<I")
_DIGEST = 32


class EmbeddingCache:
    """Vectors of texts under ``folder`` for one model key (a JSON-able mapping)."""

    def __init__(self, folder: str | os.PathLike[str], model_key: Mapping[str, Any]):
        self.model_key = json.dumps(dict(model_key), sort_keys=True, default=str)
        self.dir = Path(folder) / hashlib.sha256(self.model_key.encode()).hexdigest()[:16]
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ValueError(f"embedding cache folder {folder} is not a folder (a file is in the way); "
                             "move it or pass another cache_dir") from None
        meta = self.dir / "model.json"
        self.unwritten = 0
        if not meta.exists():
            try:
                _atomic_write(meta, (json.dumps({"model_key": json.loads(self.model_key)}, indent=1) + "\n").encode())
            except OSError as exc:  # for people only; the vectors say the same when they can be written
                log.warning("embedding cache %s: could not write model.json (%s)", self.dir, exc.strerror or exc)
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def key(self, text: str) -> str:
        return hashlib.sha256((self.model_key + "\n" + text).encode("utf-8", "surrogatepass")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.vec"

    def get(self, text: str) -> np.ndarray | None:
        """The stored vector of ``text``, or None (absent, or corrupt: counted)."""
        key = self.key(text)
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a folder or an unreadable file where the vector should be
            log.warning("embedding cache %s: %s", self._path(key), exc)
            self.corrupt += 1
            return None
        vec = _decode(key, data)
        if vec is None:
            self.corrupt += 1
        return vec

    def put(self, text: str, vector: np.ndarray) -> None:
        """Store ``vector``; a write the disk refuses is counted in ``unwritten`` (warned once), not raised:
        the caller has the vector, only a later run misses it."""
        key = self.key(text)
        path = self._path(key)
        data = _encode(key, vector)
        try:
            path.parent.mkdir(exist_ok=True)
            if path.is_dir():  # something else took the name: leave it, the text is embedded again next run
                return
            _atomic_write(path, data)
        except OSError as exc:
            if not self.unwritten:
                log.warning("embedding cache %s: could not store vectors (%s); this run goes on without storing "
                            "them", self.dir, exc.strerror or exc)
            self.unwritten += 1

    def embed(self, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors of ``texts``: stored ones read, the rest computed by ``compute(missing texts)`` in one call
        (in their order, so a run with nothing cached computes exactly what it would without the cache)
        and stored."""
        found: list[np.ndarray | None] = [self.get(t) for t in texts]
        missing = [i for i, v in enumerate(found) if v is None]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            computed = np.asarray(compute([texts[i] for i in missing]), dtype=np.float64)
            if computed.ndim != 2 or computed.shape[0] != len(missing):
                raise RuntimeError(f"embedding function returned shape {computed.shape} for {len(missing)} texts")
            for row, i in enumerate(missing):
                found[i] = computed[row]
                self.put(texts[i], computed[row])
        if self.corrupt:
            log.warning("embedding cache %s: %d corrupt vector file(s) recomputed", self.dir, self.corrupt)
        dims = {v.shape[0] for v in found if v is not None}
        if len(dims) > 1:
            raise RuntimeError(f"embedding cache {self.dir}: vectors of different sizes {sorted(dims)}")
        return np.stack(found) if found else np.zeros((0, 0))  # type: ignore[arg-type]

    def stats(self) -> dict[str, int]:
        """Hits, misses and corrupt files; ``unwritten`` too when a vector could not be stored."""
        counts = {"hits": self.hits, "misses": self.misses, "corrupt": self.corrupt}
        return counts | ({"unwritten": self.unwritten} if self.unwritten else {})


def _encode(key: str, vector: np.ndarray) -> bytes:
    values = np.ascontiguousarray(vector, dtype="<f8")
    if values.ndim != 1:
        raise ValueError(f"an embedding is one vector, not shape {values.shape}")
    body = values.tobytes()
    return MAGIC + _DIM.pack(values.shape[0]) + body + hashlib.sha256(key.encode() + body).digest()


def _decode(key: str, data: bytes) -> np.ndarray | None:
    head = len(MAGIC) + _DIM.size
    if len(data) < head + _DIGEST or not data.startswith(MAGIC):
        return None
    (dim,) = _DIM.unpack_from(data, len(MAGIC))
    if dim == 0 or len(data) != head + 8 * dim + _DIGEST:
        return None
    body = data[head : head + 8 * dim]
    if hashlib.sha256(key.encode() + body).digest() != data[head + 8 * dim :]:
        return None
    vec = np.frombuffer(body, dtype="<f8").astype(np.float64)
    return vec if np.isfinite(vec).all() else None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = ["EmbeddingCache"]
