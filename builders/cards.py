"""What every builder's dataset card shares besides the front matter: the license of mixed sources, the
``load_dataset`` example over the configs the card lists, and why a declared config is absent.

The writer lists a config only when it has rows (``datasets`` cannot load one without data files); a user who
expects it (``sft`` of a build made without texts) reads here why it is missing instead of a loader error.
"""

from __future__ import annotations

from typing import Any

from cyclebench.hub.writer import listed_configs

OPENREVIEW_TERMS = "https://openreview.net/legal/terms"


def openreview_license(config_license: str, with_paper_texts: bool) -> dict[str, Any]:
    """``CardMetadata`` license fields of a build from OpenReview notes.

    Notes alone are CC BY 4.0 (the config's license, ``cc-by-4.0`` by default). Paper texts are their authors'
    work under the terms they chose, so a build that holds texts is ``other``, named and linked, as is a
    config that asks for ``other``."""
    if config_license == "other" or (with_paper_texts and config_license == "cc-by-4.0"):
        return {"license": "other", "license_name": "openreview-notes-cc-by-4.0-and-paper-texts",
                "license_link": OPENREVIEW_TERMS}
    return {"license": config_license}


def load_example(split_rows: dict[str, dict[str, int]], comments: dict[str, str]) -> str:
    """A ``load_dataset`` snippet with one line per config the card lists (never one it leaves out)."""
    calls = []
    for config in listed_configs(split_rows):
        name, args = ("ds", "") if config == "default" else (config, f', "{config}"')
        calls.append((f'{name} = load_dataset("<this repo or folder>"{args})', comments.get(config, "")))
    width = max((len(call) for call, _ in calls), default=0) + 2
    lines = [f"{call:<{width}}# {comment}" if comment else call for call, comment in calls]
    return "```python\nfrom datasets import load_dataset\n" + "\n".join(lines) + "\n```"


def absent_configs_note(split_rows: dict[str, dict[str, int]], why: dict[str, str]) -> str:
    """A paragraph naming each declared config the card does not list (no rows) and why; empty when none."""
    absent = [config for config in split_rows if config not in listed_configs(split_rows)]
    if not absent:
        return ""
    lines = [f"- `{config}`: {why.get(config, 'no row in this build')}." for config in absent]
    return ("Configs of this dataset not in this build (no rows, so the card does not list them and "
            "`load_dataset` would not find them):\n\n" + "\n".join(lines) + "\n\n")
