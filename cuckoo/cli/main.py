"""`cuckoo` entry point. Each command group lives in its own module under cuckoo/cli/ and
exposes `register(subparsers)`; heavy imports happen inside the command, not at startup."""

from __future__ import annotations

import argparse
import sys

from cuckoo.cli import (
    check_cmd,
    demo_cmd,
    init_cmd,
    nlu_cmd,
    report_cmd,
    run_cmd,
    scenario_cmds,
    sms_cmds,
    speech_cmds,
    store_cmds,
    telephony_cmds,
    web_cmds,
)
from cuckoo.cli.logs import setup_logging
from cuckoo.config import load
from cuckoo.errors import ConfigError, CuckooError

# Each defines register(subparsers) -> None; the help lists them in this order.
COMMAND_MODULES = [
    init_cmd,  # init
    store_cmds,  # db upgrade, notify add, status, block, unblock
    report_cmd,  # report
    run_cmd,  # run
    check_cmd,  # check
    speech_cmds,  # say, voices, models
    nlu_cmd,  # nlu
    telephony_cmds,  # call, sim-phone
    sms_cmds,  # sms send
    scenario_cmds,  # scenario simulate
    web_cmds,  # web, users, tokens
    demo_cmd,  # demo
]


# What each exit status means; checked against the code by tests/unit/test_report_format.py
# and repeated in the README's command reference.
EXIT_CODES = """\
exit status:
  0    done; for `check`: no problems, `call`: answered, `scenario simulate`: the goal
       was reached, `demo`: every customer's result is right
  1    error: bad input or configuration (the message names the option, file:line or
       field; a refused `notify add` stores nothing; `notify cancel` of no such
       notification), a `check` or `scenario check` with
       problems, a `run --once` cycle with errors, an SMS not accepted or not delivered,
       a `demo` whose results are wrong
  2    usage: an unknown command or option, a missing or malformed argument, a command
       group without its action (`cuckoo db`, `notify`, `sms`; `voices`, `models` and
       `scenario` list instead), a `demo --dir` that is not a demo's folder
  3    no contact: `call` was not answered, `scenario simulate` ended without the goal
  130  interrupted (Ctrl-C)

--json (status, report, check, voices list, models list, scenario list, scenario check,
call, notify cancel) prints one JSON document; in a pipe, tables are tab-separated lines
with a header."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuckoo",
        description="Outbound notification robot: calls, speaks, listens, reports.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-c", "--config", help="path to cuckoo.toml (default: ./cuckoo.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def configure_logging(args: argparse.Namespace) -> None:
    """[log] of the command's cuckoo.toml, if it loads; if not, the command loads it again and
    says what is wrong (logging stays plain text on stderr)."""
    try:
        config = load(args.config)
    except ConfigError:
        return
    setup_logging(args.verbose, config.log, config.path(config.var_dir))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)  # quiet httpx & co., secrets and message texts masked
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if args.command != "demo":  # the demo needs no cuckoo.toml: it writes its own
            configure_logging(args)
        return int(args.func(args) or 0)
    except CuckooError as e:
        print(f"cuckoo: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
