"""``cyclebench publish DIR --repo ORG/NAME --tag vX.Y.Z``: upload a built dataset and tag it."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="a dataset folder written by `cyclebench build`")
    parser.add_argument("--repo", required=True, help="Hub dataset repo id, ORG/NAME")
    parser.add_argument("--tag", required=True, help="semantic version tag, vX.Y.Z")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN / the saved login)")


def run(args: argparse.Namespace) -> int:
    from cyclebench.hub.publish import TagExistsError, publish_folder

    try:
        result = publish_folder(args.folder, args.repo, args.tag, token=args.token, private=args.private)
    except TagExistsError as exc:  # a user error (pick a new version): one line, like the others
        raise ValueError(str(exc)) from None
    print(f"published {args.repo}@{result.tag} (commit {result.commit_sha}): {len(result.files)} files")
    print(f'load with: load_dataset("{args.repo}", revision="{result.tag}")')
    return 0
