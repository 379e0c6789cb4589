"""`cuckoo check`: validate everything a running robot would load, before it runs.

Checks, in order: cuckoo.toml; every scenario (file:line problems); each scenario's SMS text
against the segment limit; every enabled ERP adapter: its options, then its read-only probe
(`adapter.check()`: connects and runs the query / asks 1C for one object / looks at the
folder; nothing is written or created); every SNPP gateway's greeting (connect, QUIT: nothing
is sent), every smstools gateway's spool folders, every GSM modem's SIM, registration and signal
(the PIN is entered if the SIM asks; nothing is sent); every voice profile.
Prints one line per problem and exits 1 if there is any, so it fits a deploy pipeline.

`--show-config` prints the effective config instead (cuckoo.toml with the CUCKOO_ variables on
top), every key with where it came from and secrets masked; `--json` as a JSON list.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import build_adapter
from cuckoo import config as config_module
from cuckoo.cli.output import add_json_flag, emit_json
from cuckoo.config import locate, show
from cuckoo.config.sms import ModemGatewaySettings, SmstoolsGatewaySettings, SnppGatewaySettings
from cuckoo.dialog import load_scenario, render_sms, validate_dir
from cuckoo.dialog.identify import (
    IDENTIFY_WITHIN_S,
    opening_timeline,
    seconds_until_named_in,
    spoken_rate,
)
from cuckoo.dialog.loader import sample_context, scenario_files
from cuckoo.dialog.schema import Scenario, SmsState
from cuckoo.dialog.templates import render
from cuckoo.domain import Variables
from cuckoo.errors import ConfigError, CuckooError
from cuckoo.sms.modem import ModemError, ModemGateway
from cuckoo.sms.segments import segments
from cuckoo.sms.smstools import SmstoolsError, SmstoolsGateway
from cuckoo.sms.snpp import SnppError, SnppGateway
from cuckoo.speech.lexicon import Lexicon
from cuckoo.speech.normalize import normalize
from cuckoo.speech.tts import choose_voice
from cuckoo.speech.tts.profiles import load_profiles


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="validate cuckoo.toml, scenarios, SMS texts, adapters, voices")
    p.add_argument("--quiet", action="store_true", help="print problems only")
    p.add_argument(
        "--show-config",
        action="store_true",
        help="print the effective config, each key's source (cuckoo.toml:LINE, env CUCKOO_X, "
        "file PATH, default), secrets masked; check nothing else",
    )
    add_json_flag(p)  # the report, or with --show-config the settings
    p.set_defaults(func=cmd_check)


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # printed even with --quiet, not failures

    def ok(self) -> bool:
        return not self.problems


def check_all(config_path: str | None) -> CheckReport:

    report = CheckReport()
    try:
        config = config_module.load(config_path)
    except ConfigError as e:
        report.problems.extend(str(e).splitlines())
        return report  # nothing else can be checked without a config
    source = config_module.config_path(config_path)
    report.notes.append(
        f"config: {source}: ok"
        if source
        else f"config: no ./{config_module.DEFAULT_PATH} and no ${config_module.ENV_PATH}: "
        "using the defaults"
    )
    if not config.telephony.trunk_pool:
        report.warnings.append(
            "warning: no [telephony.trunk] domain nor [telephony.trunks.NAME]: only SIP URIs "
            "can be called, not customers' numbers"
        )
    _check_scenarios(config, report)
    _check_adapters(config, report, source)
    _check_sms_gateways(config, report, source)
    _check_voices(config, report)
    return report


def _check_scenarios(config: Any, report: CheckReport) -> None:

    scenarios_dir = config.path(config.scenarios_dir)
    if not scenarios_dir.is_dir():
        report.problems.append(f"{scenarios_dir}: scenarios folder does not exist")
        return
    problems = validate_dir(scenarios_dir)
    report.problems.extend(str(p) for p in problems)
    bad_files = {str(p.file) for p in problems}
    files = scenario_files(scenarios_dir)
    for path in files:
        if str(path) in bad_files:
            continue
        scenario = load_scenario(path)
        context = sample_context(scenario)
        try:
            text = render_sms(scenario, context)
        except Exception as e:  # a template that fails on its own sample data
            report.problems.append(f"{path}: sms: cannot render with the sample variables: {e}")
        else:
            if text is not None:
                _check_sms_length(config, report, path, "sms", text)
        # `sms:` steps: texts the dialog puts aside during a call, sent after it.
        for name, state in scenario.states.items():
            if not isinstance(state, SmsState):
                continue
            label = f"states.{name}.sms"
            try:
                text = render(state.sms, {**context, "speech": False})
            except Exception as e:
                report.problems.append(
                    f"{path}: {label}: cannot render with the sample variables: {e}"
                )
                continue
            _check_sms_length(config, report, path, label, text)
        _check_identification(config, report, path, scenario, context)
    report.notes.append(f"scenarios: {len(files)} file(s), {len(problems)} problem(s)")


def _check_identification(
    config: Any, report: CheckReport, path: Path, scenario: Scenario, context: Variables
) -> None:
    """The robot names the company within the first 5 s of the call (cuckoo.dialog.identify):
    the opening, rendered with the sample variables and read as the voice reads it, with
    every recording played before the name counted by its length."""
    company = context.get("company") or config.policy.company_name
    start = _line_of(path, f"  {scenario.start}:")
    if not isinstance(company, str) or not company.strip():
        report.warnings.append(
            f"warning: {path}:{start}: cannot check that the robot names the company within "
            f"{IDENTIFY_WITHIN_S:.0f} s: no `company` sample variable and no [policy] "
            "company_name"
        )
        return
    try:
        timeline = opening_timeline(scenario, context)
    except CuckooError as e:
        report.problems.append(f"{path}: the opening cannot be rendered: {e}")
        return
    engine, tempo = _voice_rate(config)
    rate = spoken_rate(engine, tempo)
    spoken = [normalize(p) if isinstance(p, str) else p for p in timeline]
    seconds = seconds_until_named_in(spoken, normalize(company), rate)
    if seconds is None:
        report.problems.append(
            f"{path}:{start}: the opening does not name the company ({company!r}): the robot "
            f"must identify itself within the first {IDENTIFY_WITHIN_S:.0f} s"
        )
    elif seconds > IDENTIFY_WITHIN_S:
        report.problems.append(
            f"{path}:{start}: the opening names the company ({company!r}) only after about "
            f"{seconds:.1f} s of speech ({engine}, {rate:.2f} syllables/s); the robot must "
            f"identify itself within {IDENTIFY_WITHIN_S:.0f} s: name it earlier"
        )


def _voice_rate(config: Any) -> tuple[str, float]:
    """The engine and tempo of the voice a worker would speak with (its profile, else RHVoice)."""
    try:
        profiles = load_profiles(config.path(config.voices_dir))
        profile, _ = choose_voice(config, profiles, None)
    except CuckooError:
        return "rhvoice", 1.0
    return profile.engine, profile.tempo


def _line_of(path: Path, prefix: str) -> int:
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.startswith(prefix):
            return n
    return 1


def _check_sms_length(config: Any, report: CheckReport, path: Path, label: str, text: str) -> None:

    encoding, parts = segments(text)
    if parts > config.sms.max_segments:
        report.problems.append(
            f"{path}: {label}: {parts} SMS parts ({encoding}) with the sample variables; "
            f"[sms] max_segments is {config.sms.max_segments}"
        )
    else:
        report.notes.append(f"{path.name}: {label} {parts} part(s), {encoding}")


def _check_adapters(config: Any, report: CheckReport, source: Path | None) -> None:

    for name, settings in config.adapters.items():
        if not settings.enabled:
            report.notes.append(f"adapter {name}: disabled")
            continue
        try:
            adapter = build_adapter(name, settings, config.base_dir)
        except ConfigError as e:
            report.problems.extend(locate(str(e), source).splitlines())  # adapters.NAME.key
            continue
        try:
            probe = getattr(adapter, "check", None)
            if probe is None:
                report.notes.append(f"adapter {name} ({settings.type}): options ok, no check()")
                continue
            probe()
        except CuckooError as e:
            report.problems.extend(locate(_keyed(name, str(e)), source).splitlines())
        except Exception as e:  # an adapter of one's own that fails in its own way
            report.problems.append(f"adapters.{name}: check() failed: {type(e).__name__}: {e}")
        else:
            report.notes.append(f"adapter {name} ({settings.type}): ok, reached")
        finally:
            close = getattr(adapter, "close", None)
            if close is not None:
                close()


def _check_sms_gateways(config: Any, report: CheckReport, source: Path | None) -> None:
    """SNPP gateways: connect, read the greeting, QUIT; smstools: the spool folders exist and
    may be written / read; modems: open the port, SIM state (the PIN entered if it asks),
    registration, signal. Nothing is sent. SMPP and HTTP ones are not probed: a bind or a
    request could cost money or count against limits."""
    for name, settings in config.sms.gateways.items():
        gateway: SnppGateway | SmstoolsGateway | ModemGateway
        if isinstance(settings, SnppGatewaySettings):
            kind, gateway = "snpp", SnppGateway(name, settings)
        elif isinstance(settings, SmstoolsGatewaySettings):
            kind, gateway = "smstools", SmstoolsGateway(name, settings)
        elif isinstance(settings, ModemGatewaySettings):
            kind, gateway = "modem", ModemGateway(name, settings)
        else:
            continue
        try:
            state = gateway.check()
        except SmstoolsError as e:  # its lines name their own keys: [sms.gateways.NAME.key]
            report.problems.extend(locate(str(e), source).splitlines())
        except (SnppError, ModemError) as e:
            report.problems.extend(locate(f"[sms.gateways.{name}] {e}", source).splitlines())
        else:
            reached = "reached: " if kind == "snpp" else ""
            report.notes.append(f"sms gateway {name} ({kind}): ok, {reached}{state}")
        finally:
            gateway.close()


def _keyed(name: str, message: str) -> str:
    """ConfigErrors start with "[adapters.NAME.key]"; the others ("adapters.NAME: ...", or
    anything from an adapter of one's own) get "[adapters.NAME]" so `locate` finds the table."""
    plain = f"adapters.{name}: "
    if message.startswith(plain):
        return f"[adapters.{name}] " + message[len(plain) :]
    if message.startswith("["):
        return message
    return f"[adapters.{name}] {message}"


def _check_voices(config: Any, report: CheckReport) -> None:

    voices_dir = config.path(config.voices_dir)
    try:
        profiles = load_profiles(voices_dir)
    except ConfigError as e:
        report.problems.extend(str(e).splitlines())
        return
    lexicons = {voices_dir / p.lexicon for p in profiles.values() if p.lexicon}
    for path in sorted(lexicons):
        if not path.exists():
            report.warnings.append(f"warning: {path}: no such lexicon: voices speak without it")
            continue
        try:
            Lexicon.load(path)
        except ConfigError as e:
            report.problems.extend(str(e).splitlines())
    chosen = profiles.get(config.speech.voice) if config.speech.voice else None
    if chosen is not None and chosen.non_commercial:
        report.warnings.append(
            f"warning: [speech] voice {chosen.name}: licence {chosen.license}; calling a "
            "company's customers is commercial use (silero-v5-cis is MIT, RHVoice is GPL)"
        )
    report.notes.append(f"voices: {len(profiles)} profile(s): {', '.join(sorted(profiles))}")


def show_config(config_path: str | None, as_json: bool) -> int:
    try:
        loaded = config_module.load_traced(config_path)
    except ConfigError as e:
        print(e)
        return 1
    rows = show.settings(loaded)
    print(show.as_json(rows) if as_json else show.as_toml(rows), end="" if not as_json else "\n")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    if args.show_config:
        return show_config(args.config, args.json)
    report = check_all(args.config)
    if args.json:  # the exit status stays the same: 1 when there are problems
        emit_json(
            {
                "ok": report.ok(),
                "problems": report.problems,
                "warnings": report.warnings,
                "notes": report.notes,
            }
        )
        return 0 if report.ok() else 1
    if not args.quiet:
        for note in report.notes:
            print(note)
    for line in report.warnings + report.problems:
        print(line)
    if report.ok():
        print("check: all good")
        return 0
    print(f"check: {len(report.problems)} problem(s)")
    return 1
