"""The ``cyclebench`` command: one small module per subcommand, each imported only when it runs."""

from __future__ import annotations

import argparse
import copy
import importlib
import os
import sys

# subcommand -> (module, one-line help). Modules expose ``add_arguments(parser)`` and ``run(args) -> int``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "build": ("cyclebench.cli.build", "build a dataset (review-5k, research-14k, deepreview-13k, aiscientist-iclr2022) in the Hub layout"),
    "check-overlap": ("cyclebench.cli.check_overlap",
                      "report (and remove) test papers that also appear in training splits of the datasets"),
    "detect": ("cyclebench.cli.detect", "score texts for AI writing (Fast-DetectGPT): papers, a JSONL of texts, a dataset's reviews"),
    "evaluate": ("cyclebench.cli.evaluate", "evaluate a reviewer (model, baseline or recorded outputs) or a paper generator; judge folders of papers"),
    "fetch": ("cyclebench.cli.fetch", "fetch raw sources (needs network): OpenReview notes and PDFs, arXiv e-prints, cited abstracts"),
    "train": ("cyclebench.cli.train", "print or run the launch command of a training recipe (SFT, Iterative SimPO)"),
    "leaderboard": ("cyclebench.cli.leaderboard",
                    "submit a run to the leaderboard, validate (re-score) submissions, build the static site"),
    "publish": ("cyclebench.cli.publish", "upload a built dataset folder to the Hugging Face Hub and tag it"),
    "tasks": ("cyclebench.cli.tasks", "list the tasks, protocols and backends evaluate accepts, one line each"),
}


# What a Ctrl-C leaves, by subcommand (one line, exit 130 as a shell reports SIGINT).
INTERRUPTED = {"evaluate": "interrupted; run the same command again to resume from the cache"}


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, as users of lm-eval and trl expect; an option with nothing
    to show (no default, a switch that is off, a list that starts empty) says nothing."""

    @staticmethod
    def _shows_default(action: argparse.Action) -> bool:
        default = action.default
        return not (default is None or default is False or default == [] or default == ""
                    or default is argparse.SUPPRESS or action.option_strings == [] and action.nargs in ("?", "*")
                    or isinstance(action, (argparse._HelpAction, argparse._VersionAction)))

    def _format_action(self, action: argparse.Action) -> str:
        # argparse prints no help column for an option without help text: give it one holding the default
        if not (action.help and action.help.strip()) and self._shows_default(action):
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "%(default)" in text or not self._shows_default(action):
            return action.help
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class CyclebenchParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help shows defaults; subcommands' parsers (``add_subparsers`` uses the
    parent's class) inherit it, so every ``--help`` at every level shows them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    from cyclebench import __version__

    parser = CyclebenchParser(prog="cyclebench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cyclebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KeyboardInterrupt:
        # Ctrl-C: finished work is already saved (caches are written batch by batch, outputs appear whole).
        if os.environ.get("CYCLEBENCH_DEBUG"):
            raise
        print(f"cyclebench {args.command}: {INTERRUPTED.get(args.command, 'interrupted')}", file=sys.stderr)
        return 130
    except (ValueError, OSError, ImportError, KeyError) as exc:
        # A user error (bad argument or file, a folder where a file belongs, an unreachable server, a missing
        # optional dependency): one clear line, no traceback unless CYCLEBENCH_DEBUG is set.
        if os.environ.get("CYCLEBENCH_DEBUG"):
            raise
        print(f"cyclebench {args.command}: error: {error_line(exc)}", file=sys.stderr)
        return 2


def error_line(exc: BaseException) -> str:
    """The exception's message on one line (a KeyError's without its quotes)."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return " ".join(str(message).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
