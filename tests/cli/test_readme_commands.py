"""Every ``cyclebench ...`` line in the README's shell blocks parses with the real CLI: a renamed flag or a
subcommand that moved cannot leave the README behind."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cyclebench.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL = ("", "bash", "sh", "shell", "console")


def shell_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks tagged as shell (or untagged), read fence by fence."""
    blocks: list[str] = []
    body: list[str] | None = None
    tag = ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if body is None:
                body, tag = [], line.strip()[3:].strip().lower()
            else:
                if tag in SHELL:
                    blocks.append("\n".join(body) + "\n")
                body = None
        elif body is not None:
            body.append(line)
    return blocks


def readme_commands(text: str) -> list[str]:
    """The ``cyclebench`` invocations of the README's code blocks: continuation lines joined, comments cut,
    ``a && b`` and ``a; b`` split, each invocation from its ``cyclebench`` word on."""
    commands: list[str] = []
    for block in shell_blocks(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            current: list[str] = []
            for word in [*words, "&&"]:
                if word in ("&&", ";", "||", "|"):
                    if current and current[0] == "cyclebench":
                        commands.append(shlex.join(current))
                    current = []
                elif current or word == "cyclebench":
                    current.append(word)
    return commands


def test_the_readme_has_commands_to_check():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 10
    assert any(c.startswith("cyclebench evaluate model") for c in commands)


@pytest.mark.parametrize("command", readme_commands(README.read_text(encoding="utf-8")))
def test_a_readme_command_parses(command):
    argv = shlex.split(command)[1:]
    if argv in (["--help"], ["--version"]) or "--help" in argv:
        return
    try:
        build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's way of saying the README is wrong
        pytest.fail(f"README command does not parse (exit {exit_.code}): {command}")


def test_the_extractor_splits_chains_and_joins_continuations():
    text = "```bash\npip install x && cyclebench tasks # all\ncyclebench build review-5k \\\n  --sample --out d\n```\n"
    assert readme_commands(text) == ["cyclebench tasks", "cyclebench build review-5k --sample --out d"]
