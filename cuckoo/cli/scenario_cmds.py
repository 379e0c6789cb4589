"""`cuckoo scenario list|show|check|simulate`: look at, check and try the YAML dialogs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo import config
from cuckoo.cli.output import add_json_flag, emit_json, show_table, wants_json
from cuckoo.cli.variables import parse_vars
from cuckoo.dialog.loader import (
    check_file,
    load_named,
    load_scenario,
    render_sms,
    scenario_files,
    scenario_path,
    validate_dir,
)
from cuckoo.dialog.runner import run_dialog
from cuckoo.dialog.text_line import TextLine
from cuckoo.domain import Outcome, Variables
from cuckoo.errors import ConfigError, CuckooError, InputError, TtsError
from cuckoo.speech.normalize import normalize
from cuckoo.speech.tts import choose_voice, load_profiles
from cuckoo.speech.tts.synth import load_lexicon


def register(sub: Any) -> None:
    p = sub.add_parser(
        "scenario", help="list (also with no action), show, check and simulate dialog scenarios"
    )
    p.add_argument("--dir", help="scenarios folder (default: scenarios_dir from cuckoo.toml)")
    add_json_flag(p)
    p.set_defaults(func=cmd_list)
    ssub = p.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")

    ls = ssub.add_parser("list", help="the scenarios and their descriptions")
    add_json_flag(ls, inherit=True)
    ls.set_defaults(func=cmd_list)

    show = ssub.add_parser("show", help="print a scenario file and its sample SMS")
    show.add_argument("name")
    show.set_defaults(func=cmd_show)

    check = ssub.add_parser("check", help="check scenarios; prints file:line problems")
    check.add_argument("path", nargs="?", help="a scenario file or folder (default: all)")
    add_json_flag(check)
    check.set_defaults(func=cmd_check)

    sim = ssub.add_parser(
        "simulate",
        help="run a dialog in the terminal: type digits, words, empty line = silence",
        description=(
            "The robot's lines are printed; answer with digits (DTMF), words (understood like "
            "speech), an empty line (silence) or end of input (hang up). Works with a pipe: "
            "printf '1\\n' | cuckoo scenario simulate documents_sent. Exit status: 0 when "
            "the dialog reached the scenario's goal (outcome confirmed), 3 when it ended "
            "without it (declined, callback, hung up, ...), 1 on errors (unknown or invalid "
            "scenario, bad --var)."
        ),
    )
    sim.add_argument("name", help="scenario name (or a path to a .yaml file)")
    sim.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="K=V",
        help="a variable (dotted for nested: customer.first_name=Пётр); overrides the samples",
    )
    sim.add_argument("--vars-json", metavar="FILE", help="variables from a JSON object")
    sim.add_argument("--now", help="the clock, ISO (naive = in --tz), e.g. 2026-11-19T10:00")
    sim.add_argument("--tz", default="Europe/Moscow", help="the customer's time zone")
    sim.add_argument(
        "--dtmf-only", action="store_true", help="as on a line without speech recognition"
    )
    sim.add_argument("--operator", help="number that `transfer: operator` hands over to")
    sim.add_argument(
        "--written",
        action="store_true",
        help="show the texts only as written, without the 'голос:' lines (what the voice reads "
        "where it differs: numbers, dates, codes and abbreviations spelt out)",
    )
    sim.set_defaults(func=cmd_simulate)

    for cmd in (ls, show, check, sim):
        # SUPPRESS: `cuckoo scenario --dir D list` keeps the group's --dir
        cmd.add_argument(
            "--dir",
            default=argparse.SUPPRESS,
            help="scenarios folder (default: scenarios_dir from cuckoo.toml)",
        )


def _scenarios_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "dir", None):
        return Path(args.dir)

    cfg = config.load(args.config)
    return cfg.path(cfg.scenarios_dir)


def cmd_list(args: argparse.Namespace) -> int:

    folder = _scenarios_dir(args)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    found: list[dict[str, object]] = []
    rows: list[list[str]] = []
    for f in scenario_files(folder):
        sc, problems = check_file(f)
        name = f.stem if sc is None else sc.name
        description = "" if sc is None else sc.description
        found.append(
            {
                "name": name,
                "description": description,
                "file": f,
                "valid": sc is not None,
                "problems": [str(p) for p in problems],
            }
        )
        if sc is None:
            description = f"INVALID ({len(problems)} problems: cuckoo scenario check {f})"
        rows.append([name, description])
    if wants_json(args):
        emit_json({"scenarios_dir": folder, "scenarios": found})
        return 0
    show_table(["name", "description"], rows, title=f"scenarios in {folder}", no_wrap=["name"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:

    path = scenario_path(_scenarios_dir(args), args.name)
    print(f"# {path}")
    print(path.read_text(encoding="utf-8").rstrip())
    sc = load_scenario(path)
    sms = render_sms(sc, sc.variables)
    if sms:
        print(f"\n# SMS with the sample variables:\n# {sms}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:

    path = Path(args.path) if args.path else _scenarios_dir(args)
    problems = validate_dir(path)
    if args.json:
        n = len(scenario_files(path)) if path.exists() else 0
        emit_json(
            {
                "ok": not problems,
                "checked": n,
                "problems": [
                    {"file": p.file, "line": p.line, "message": p.message} for p in problems
                ],
            }
        )
        return 1 if problems else 0
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    n = len(scenario_files(path)) if path.exists() else 0
    print(f"{n} scenario(s) OK")
    return 0


def merge(base: Variables, over: Variables) -> Variables:
    """`over` on top of `base`, nested dicts merged key by key."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def cmd_simulate(args: argparse.Namespace) -> int:

    try:
        tz = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"--tz {args.tz!r}: unknown time zone") from e
    if args.now:
        try:
            start = datetime.fromisoformat(args.now)
        except ValueError as e:
            raise InputError(f"--now: {args.now!r} is not an ISO time like 2026-11-19T10:00") from e
        start = start.replace(tzinfo=tz) if start.tzinfo is None else start
    else:
        start = datetime.now(UTC)
    scenario = load_named(_scenarios_dir(args), args.name)
    variables = merge(scenario.variables, parse_vars(args.var, args.vars_json))
    line = TextLine(spoken=None if args.written else _voice_text(args))
    if line.interactive:
        print(
            "(цифры — кнопки, слова — речь, пустая строка — молчание, Ctrl-D — положить трубку)",
            file=sys.stderr,
        )
    result = run_dialog(
        scenario,
        line,
        variables,
        now=lambda: start,
        tz=tz,
        speech_available=not args.dtmf_only,
        operator=args.operator,
    )
    print(f"outcome: {result.outcome.value}")
    if result.callback_at:
        print(f"callback_at: {result.callback_at.astimezone(tz).isoformat()}")
    if result.dtmf:
        print(f"dtmf: {result.dtmf}")
    if result.transcript:
        print(f"transcript: {result.transcript}")
    if result.sms_text:
        print(f"sms: {result.sms_text}")
    return simulate_exit_code(result.outcome)


# `cuckoo scenario simulate` exit status (also in its --help and the README).
EXIT_GOAL = 0  # the scenario's goal was reached (outcome confirmed)
EXIT_NOT_GOAL = 3  # the dialog ended some other way; 1 (CuckooError, in main) = errors


def _voice_text(args: argparse.Namespace) -> Callable[[str], str]:
    """What the configured voice reads for a text: its lexicon, then normalization (digits,
    dates, codes, abbreviations as a person reads them) — `cuckoo say --normalize-only`."""
    try:
        cfg = config.load(args.config)
        profiles = load_profiles(cfg.path(cfg.voices_dir))
        try:
            profile, _ = choose_voice(cfg, profiles, None)
        except TtsError:  # no engine can run here; the text is still worth seeing
            profile = profiles["espeak-ru"]
        lexicon = load_lexicon(cfg, profile)
    except (CuckooError, KeyError):  # no config or voices here: normalization alone
        return normalize
    return lambda text: normalize(lexicon.apply(text))


def simulate_exit_code(outcome: Outcome) -> int:
    return EXIT_GOAL if outcome is Outcome.CONFIRMED else EXIT_NOT_GOAL
