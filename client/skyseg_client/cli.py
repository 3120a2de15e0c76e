"""The ``skyseg`` command. The client ships ``segment``, ``video`` and ``replace``; the full project adds
``train``, ``eval``, ``export``, ``build-repo`` and ``serve`` through the ``skyseg.commands``
entry-point group, so the client installs on its own with only tritonclient, numpy and OpenCV."""
from __future__ import annotations

import argparse
import logging
import sys
from importlib.metadata import entry_points
from typing import Sequence

from . import replace_command, segment_command, video_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skyseg", description="Real-time sky segmentation.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    segment_command.register(subparsers)
    video_command.register(subparsers)
    replace_command.register(subparsers)
    for entry in entry_points(group="skyseg.commands"):
        try:
            entry.load()(subparsers)
        except ImportError as exc:  # a stage whose extra is not installed
            _unavailable(subparsers, entry.name, exc)
    return parser


def _unavailable(subparsers, name: str, exc: ImportError) -> None:
    def fail(_args):
        raise RuntimeError(f"'{name}' needs packages that are not installed ({exc}); "
                           "install the matching extra, e.g. pip install -e '.[convert]'")

    subparsers.add_parser(name, help=f"(unavailable: {exc.name} missing)").set_defaults(func=fail)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's job is to turn errors into one readable line
        if args.verbose:
            raise
        print(f"skyseg {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
