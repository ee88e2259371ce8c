"""Command line: ``python -m lib_skelext [-v|-q] <command> ...``.

One module per group of subcommands, each with ``add_commands(subparsers)``:
``complete`` (complete, render), ``detect``, ``retarget``, ``serve`` (serve, ui), ``check_host``.
``files`` holds the shared file helpers.

Exit codes: 0 success, 2 bad input or a missing resource (one line on stderr, never a
traceback), 3 the completion model failed on the input (``CompletionFailed``: one line; nothing
uncompleted is written as if it were completed), 130 interrupted. Batch runs over a folder
report each bad file, complete the good ones and exit 2 at the end if any file failed (a
completion failure stops them: exit 3). Every file written is named on
stderr (``skelext: wrote PATH``); ``-q`` silences that, ``-v`` adds progress and
model loading. ``-v``/``-q`` go before or after the subcommand.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from .. import __version__
from ..errors import SkelextError
from .files import WROTE

logger = logging.getLogger("lib_skelext")


def _add_verbosity(p: argparse.ArgumentParser, default: object) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="log progress and model loading")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print errors only (not the files written)")


def build_parser() -> argparse.ArgumentParser:
    from . import check_host, complete, detect, retarget, serve

    parser = argparse.ArgumentParser(
        prog="python -m lib_skelext",
        description="Complete partial OpenPose skeletons (people cut by the frame or occluded).")
    parser.add_argument("--version", action="version", version=f"skelext {__version__}")
    _add_verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (complete, detect, retarget, serve, check_host):
        module.add_commands(sub)
    for p in sub.choices.values():  # -v/-q after the subcommand too; SUPPRESS keeps the global value
        _add_verbosity(p, argparse.SUPPRESS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 with one usage line
        return int(exc.code or 0)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("skelext: %(message)s"))
    root = logging.getLogger("lib_skelext")
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO if args.verbose else logging.WARNING if args.quiet else WROTE)
    try:
        return int(args.func(args) or 0)
    except SkelextError as exc:
        print(f"skelext: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"skelext: {exc.filename or ''}: {exc.strerror or exc}".replace(": : ", ": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skelext: interrupted", file=sys.stderr)
        return 130
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
