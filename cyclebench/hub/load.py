"""Load a built dataset the same way whether it sits in a local folder or on the Hub.

A built folder uses the Hub layout (README.md with ``configs:`` YAML + parquet files), so
``datasets.load_dataset`` reads both; this wrapper only makes the local-vs-Hub choice explicit and
pins Hub loads to a revision (a release tag such as ``v1.0.0``) when one is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["load_built_dataset"]


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

    # Imported here: `datasets` is heavy and only needed when something is actually loaded.
    import datasets

    if is_local:
        return datasets.load_dataset(str(local), config, split=split, **load_kwargs)
    return datasets.load_dataset(str(path_or_repo), config, split=split, revision=revision, **load_kwargs)
