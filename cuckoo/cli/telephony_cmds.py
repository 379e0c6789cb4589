"""`cuckoo call` (place one test call now) and `cuckoo sim-phone` (a scripted customer phone)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from cuckoo.cli.output import emit_json
from cuckoo.cli.scenario_cmds import merge
from cuckoo.cli.variables import add_arguments as add_variable_arguments
from cuckoo.cli.variables import parse_vars
from cuckoo.config import Config, load
from cuckoo.config.telephony import TelephonySettings, TrunkSettings
from cuckoo.dialog.catalog import ScenarioCatalog
from cuckoo.domain import ChannelKind, Notification
from cuckoo.errors import InputError
from cuckoo.line.audio import Audio
from cuckoo.line.leg import CallReport, CallRequest
from cuckoo.line.speech import RecognizerFactory, Synthesizer
from cuckoo.policy.trunks import caller_id_for
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.dialplan import caller_uri, first_trunk, target_uri


def register(sub: Any) -> None:
    p = sub.add_parser(
        "call", help="place one call now: say a text (or run a scenario), wait for a key, report"
    )
    p.add_argument("target", help="phone number (through the trunk) or SIP URI")
    p.add_argument("--scenario", metavar="NAME", help="run this scenario on the call")
    add_variable_arguments(p)
    p.add_argument("--tz", help="the customer's time zone for --scenario (default: tenant's)")
    p.add_argument("--say", default="", help="text to say (Russian TTS)")
    p.add_argument("--wav", help="WAV file to play instead of --say")
    p.add_argument(
        "--wait-dtmf",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wait this long for a key after the message (default 5)",
    )
    p.add_argument(
        "--ring-timeout",
        type=float,
        metavar="SECONDS",
        help="cancel after ringing this long (default: [telephony] ring_timeout_s)",
    )
    p.add_argument("--record", metavar="FILE", help="record both directions to a stereo WAV")
    p.add_argument(
        "--trunk",
        metavar="NAME",
        help="call through this [telephony.trunks.NAME] (default: the first by priority)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=call_cmd)

    s = sub.add_parser("sim-phone", help="a simulated customer phone that follows a script")
    s.add_argument("--port", type=int, default=5090, help="SIP port, default 5090")
    s.add_argument("--transport", choices=["udp", "tcp", "tls"], default="udp")
    s.add_argument("--tls-cert", default="", help="PEM certificate (with --transport tls)")
    s.add_argument("--tls-key", default="", help="PEM private key (with --transport tls)")
    s.add_argument("--script", help="JSON/YAML script: default + per-user behaviour")
    s.add_argument(
        "--action",
        choices=["answer", "busy", "reject", "never", "code"],
        default="answer",
        help="what to do with every call (without --script)",
    )
    s.add_argument("--code", type=int, default=486, help="final code for --action code")
    s.add_argument("--answer-after", type=float, default=0.5, metavar="SECONDS")
    s.add_argument("--hangup-after", type=float, metavar="SECONDS")
    s.add_argument("--play", metavar="WAV", help="say this WAV after answering")
    s.add_argument("--dtmf", metavar="KEYS", help="press these keys after --dtmf-at seconds")
    s.add_argument("--dtmf-at", type=float, default=2.0, metavar="SECONDS")
    s.add_argument("--dtmf-method", choices=["rfc2833", "info", "inband"], default="rfc2833")
    s.add_argument(
        "--record", metavar="PATTERN", help="record what it heard, e.g. 'heard-{user}-{n}.wav'"
    )
    s.add_argument("--events", metavar="FILE", help="write JSON-line events here (default stdout)")
    s.set_defaults(func=sim_phone_cmd)


def _speech(config: Config) -> tuple[Synthesizer | None, RecognizerFactory | None]:
    """The configured voice and recognizer (espeak-ng / keys only when they are missing, so a
    trunk test works without models)."""
    from cuckoo.worker.channels import ConfiguredSpeech  # the voice stack: see call_cmd

    return ConfiguredSpeech(config)()


def _scenario_call(cfg: Config, args: argparse.Namespace, uri: str) -> tuple[Any, CallRequest]:
    """(conversation, request) to run a scenario on this one call, with the scenario's sample
    variables overridden by --var/--vars-json (checked before dialing)."""
    from cuckoo.worker.channels import scenario_conversation  # pjsua2: see call_cmd

    catalog = ScenarioCatalog(cfg.path(cfg.scenarios_dir))
    scenario = catalog.get(args.scenario)
    variables = merge(scenario.variables, parse_vars(args.var, args.vars_json))
    problems = catalog.problems_with(args.scenario, variables)
    if problems:
        raise InputError(f"scenario {args.scenario!r}: " + "; ".join(problems))
    tz = args.tz or cfg.policy.tenant_timezone("default")
    notification = Notification(
        id=0,
        source="cli",
        external_id="",
        tenant="default",
        phone=args.target,
        phone_raw=args.target,
        channel=ChannelKind.CALL,
        scenario=args.scenario,
        variables=variables,
        timezone=tz,
        attempt_no=1,
        contacts=0,
    )
    request = CallRequest(
        uri, notification, record_path=args.record, ring_timeout_s=args.ring_timeout
    )
    return scenario_conversation(cfg), request


def _check_files(args: argparse.Namespace) -> None:
    """--wav must be a 16-bit WAV and --record must go to an existing folder."""
    if args.wav:
        try:
            Audio.read_wav(args.wav)
        except OSError as e:
            raise InputError(f"--wav {args.wav}: cannot read: {e.strerror}") from e
        except (wave.Error, EOFError, ValueError) as e:
            raise InputError(f"--wav {args.wav}: not a 16-bit PCM WAV file ({e})") from e
    if args.record and not Path(args.record).resolve().parent.is_dir():
        raise InputError(f"--record {args.record}: no such folder")


NOT_ANSWERED = 3  # `cuckoo call`'s exit status when the call was not answered


def _trunk(tel: TelephonySettings, name: str | None) -> tuple[str, TrunkSettings | None]:
    """--trunk NAME, or the first trunk by priority; ("", None) without any trunk."""
    pool = tel.trunk_pool
    if name:
        if name not in pool:
            known = ", ".join(sorted(pool)) or "none configured"
            raise InputError(f"--trunk {name}: no such trunk in [telephony.trunks] ({known})")
        return name, pool[name]
    first = first_trunk(tel)
    return next(((n, t) for n, t in pool.items() if t is first), ("", None))


def call_cmd(args: argparse.Namespace) -> int:
    # pjsua2 loads only for the commands that call, not for every `cuckoo` command
    from cuckoo.telephony.calls import SayAndWait, engine_config, run_call
    from cuckoo.telephony.engine import Engine  # pjsua2, as above

    cfg = load(args.config)
    tel = cfg.telephony
    trunk_name, trunk = _trunk(tel, args.trunk)
    uri = target_uri(args.target, tel, trunk)
    account = trunk_name if trunk_name in tel.trunks else ""
    from_uri = ""
    if trunk is not None:
        pool = tel.caller_ids.get("default") or trunk.caller_ids
        from_uri = caller_uri(caller_id_for(args.target, pool), trunk, tel)
    _check_files(args)  # before dialing: a customer should not answer into an error
    converse: Any
    synth: Synthesizer | None = None
    recognizer: RecognizerFactory | None = None
    if args.scenario:
        converse, request = _scenario_call(cfg, args, uri)
        request = dataclasses.replace(request, trunk=account, from_uri=from_uri)
        synth, recognizer = _speech(cfg)
    else:
        if args.say and not args.wav:
            synth, _ = _speech(cfg)
        converse = SayAndWait(say=args.say or "", wav=args.wav or "", wait_dtmf_s=args.wait_dtmf)
        request = CallRequest(
            uri,
            record_path=args.record,
            ring_timeout_s=args.ring_timeout,
            trunk=account,
            from_uri=from_uri,
        )
    engine = Engine(engine_config(tel)).start()
    try:
        if trunk is not None and trunk.registrar:
            code = engine.wait_registered(10.0, trunk=account)
            if code != 200:
                print(
                    f"cuckoo call: registration failed ({code}, trunk {trunk_name})",
                    file=sys.stderr,
                )
        r = run_call(
            engine,
            request,
            settings=tel,
            converse=converse,
            synthesizer=synth,
            recognizer_factory=recognizer,
        )
    finally:
        engine.stop()
    if args.json:
        emit_json(report_json(r))
    else:
        print(f"outcome:   {r.outcome}")
        print(f"sip code:  {r.sip_code}" + (f"  (Q.850 {r.q850})" if r.q850 else ""))
        print(f"dtmf:      {r.dtmf or '-'}")
        if r.transcript:
            print(f"heard:     {r.transcript}")
        if r.callback_at:
            print(f"callback:  {r.callback_at.isoformat()}")
        for text in r.said:
            print(f"said:      {text}")
        if r.sms_text:  # a one-off call sends nothing: the worker's job does that
            print(f"sms asked: {r.sms_text} (not sent by `cuckoo call`)")
        print(f"duration:  {r.duration_s:.2f} s")
        if r.answered_at:
            ring = r.answered_at - r.started_at
            print(f"answered after: {ring.total_seconds():.2f} s")
        if r.first_audio_s is not None:
            print(f"answer → first audio frame: {1000 * r.first_audio_s:.0f} ms")
        if r.detail:
            print(f"detail:    {r.detail}")
        if r.recording_path:
            print(f"recording: {r.recording_path}")
    # Scripts testing a trunk want to know whether anybody answered.
    return 0 if r.answered_at else NOT_ANSWERED


def report_json(r: CallReport) -> dict[str, object]:
    """`cuckoo call --json`: the report as JSON values (times ISO, outcome its name)."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(r):
        v = getattr(r, f.name)
        if isinstance(v, datetime):
            v = v.isoformat()
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    out["duration_s"] = r.duration_s
    return out


def _load_script(path: str) -> Any:
    """The sim-phone's script, or an InputError naming the file and what is wrong."""
    from cuckoo.telephony.simphone import Script  # pjsua2: see call_cmd

    try:
        return Script.load(path)
    except OSError as e:
        raise InputError(f"--script {path}: cannot read: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML: {e}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON: {e}") from e
    except KeyError as e:
        raise InputError(f"{path}: a dtmf press needs {e.args[0]!r} (at_s, keys)") from e
    except (ValueError, TypeError, AttributeError) as e:
        text = str(e)
        raise InputError(text if text.startswith(f"{path}:") else f"{path}: {text}") from e


def sim_phone_cmd(args: argparse.Namespace) -> int:
    from cuckoo.telephony.simphone import Behavior, DtmfPress, Script, run_forever  # pjsua2

    if args.script:
        script = _load_script(args.script)
    else:
        presses = (DtmfPress(args.dtmf_at, args.dtmf, args.dtmf_method),) if args.dtmf else ()
        script = Script(
            Behavior(
                action=args.action,
                code=args.code,
                answer_after_s=args.answer_after,
                hangup_after_s=args.hangup_after,
                play=args.play,
                dtmf=presses,
                record=args.record,
            )
        )
    events = open(args.events, "a", encoding="utf-8") if args.events else None  # noqa: SIM115
    try:
        return run_forever(
            script,
            args.port,
            events,
            speak=espeak_synthesizer().synthesize,
            transport=args.transport,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
    finally:
        if events:
            events.close()
