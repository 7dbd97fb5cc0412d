"""Red team of GGUF loading (issue 14): paths out of the folder, files that are not files, GGUFs cut short or
garbled, hostile ``installed:`` names, and a model file rewritten behind the identity cache. Each is one clear
error before transformers reads anything (or, past the header, one line naming the file), never a hang."""

from __future__ import annotations

import os
import struct
import sys

import pytest

from cyclebench.backends import build_backend
from cyclebench.backends.gguf import (
    check_gguf_file,
    file_identity,
    model_source,
    resolve_pretrained,
)

HEADER = b"GGUF" + struct.pack("<IQQ", 3, 0, 0)


def _folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("name", ["../outside.gguf", "sub/../../outside.gguf", "/etc/passwd"])
def test_names_out_of_the_folder_are_refused(tmp_path, name):
    folder = _folder(tmp_path)
    (tmp_path / "outside.gguf").write_bytes(HEADER)
    with pytest.raises(ValueError, match="a file name inside the pretrained folder"):
        build_backend("hf", f"pretrained={folder},gguf_file={name}")
    with pytest.raises(ValueError, match="a file name inside the pretrained folder"):
        model_source(str(folder), name, who="sft")


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory"])
def test_not_a_regular_file_is_refused_without_reading(tmp_path, kind):
    folder = _folder(tmp_path)
    target = folder / "m.gguf"
    if kind == "dev_zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)  # opening it would block until a writer came
    else:
        target.mkdir()
    with pytest.raises(ValueError, match="is not a regular file"):
        check_gguf_file(str(folder), "m.gguf")


@pytest.mark.parametrize("body, why", [
    (b"GGUF", "shorter than the 24-byte header"),
    (b"GGUF" + b"\0" * 64, "version 0"),
    (b"GGUF" + struct.pack("<IQQ", 3, 2**40, 7), "claims 1099511627776 tensors"),
    (b"GGUF" + b"\xff" * 40, "version 4294967295"),
])
def test_garbled_headers_are_one_line(tmp_path, body, why):
    folder = _folder(tmp_path)
    (folder / "m.gguf").write_bytes(body)
    with pytest.raises(ValueError, match=f"is not a readable GGUF file: .*{why}"):
        check_gguf_file(str(folder), "m.gguf")


def test_a_gguf_cut_after_its_header_names_the_file(tmp_path):
    pytest.importorskip("gguf", reason="transformers reads GGUF files with the gguf package")
    folder = _folder(tmp_path)
    # a plausible header (1 tensor, 1 key) whose first key runs past the end of the file
    (folder / "m.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + struct.pack("<Q", 10**6) + b"abc")
    with pytest.raises(ValueError, match=r"hf backend: cannot read GGUF file .*m\.gguf: "):
        build_backend("hf", f"pretrained={folder},gguf_file=m.gguf")


@pytest.mark.parametrize("pretrained, error, message", [
    ("installed:os", ValueError, "names a module, not a package folder"),
    ("installed:../x", ValueError, "importable package name"),
    ("installed:", ValueError, "importable package name"),
    ("installed:os.path", ValueError, "importable package name"),
    ("installed:no_such_pkg_rt14", FileNotFoundError, "'no_such_pkg_rt14' is not installed"),
])
def test_hostile_installed_names(pretrained, error, message):
    before = set(sys.modules)
    with pytest.raises(error, match=message):
        resolve_pretrained(pretrained)
    assert not {m for m in set(sys.modules) - before if "no_such" in m}


def test_identity_follows_a_rewrite_that_keeps_size_and_mtime(tmp_path):
    path = _folder(tmp_path) / "m.gguf"
    path.write_bytes(HEADER + b"\0" * 40)
    first = file_identity(path)
    stat = path.stat()
    path.write_bytes(HEADER + b"\1" * 40)  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime put back, as cp -p or touch -r do
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert file_identity(path)["sha256"] != first["sha256"]


def test_identity_follows_a_file_replaced_by_rename(tmp_path):
    folder = _folder(tmp_path)
    path = folder / "m.gguf"
    path.write_bytes(HEADER + b"\0" * 40)
    first = file_identity(path)
    stat = path.stat()
    other = folder / "new.gguf"
    other.write_bytes(HEADER + b"\2" * 40)
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, path)
    assert file_identity(path)["sha256"] != first["sha256"]
