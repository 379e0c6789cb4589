"""`cuckoo` entry point. Each command group lives in its own module under cuckoo/cli/ and
exposes `register(subparsers)`; heavy imports happen inside the command, not at startup."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from cuckoo.errors import CuckooError

# Module names under cuckoo.cli; each defines register(subparsers) -> None.
COMMAND_MODULES = [
    "store_cmds",  # db upgrade, notify add, status, report, block, unblock
    "run_cmd",  # run
    "check_cmd",  # check
    "speech_cmds",  # say, voices, models
    "nlu_cmd",  # nlu
    "telephony_cmds",  # call, sim-phone
    "sms_cmds",  # sms send
    "scenario_cmds",  # scenario simulate
    "demo_cmd",  # demo
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuckoo", description="Outbound notification robot: calls, speaks, listens, reports."
    )
    parser.add_argument("-c", "--config", help="path to cuckoo.toml (default: ./cuckoo.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cuckoo.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"cuckoo.cli.{name}":
                continue  # that command group is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # it announces every dictionary load at INFO
        logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CuckooError as e:
        print(f"cuckoo: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
