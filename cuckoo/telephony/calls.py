"""One call from dial to hang-up inside a process that owns an Engine: dial, run the
conversation over a SipLine, merge the SIP facts with what the conversation decided."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.audio import Audio
from cuckoo.line.speech import RecognizerFactory, Synthesizer
from cuckoo.telephony.engine import EngineConfig, TrunkAccount
from cuckoo.telephony.session import SipLine, dial

log = logging.getLogger(__name__)

Converse = Callable[[Line, dict[str, Any]], dict[str, Any]]


def load_object(path: str, what: str = "object") -> Any:
    """`package.module:name` → the object; errors say which setting to fix."""
    mod_name, _, attr = path.partition(":")
    if not mod_name or not attr:
        raise ValueError(f"{what} {path!r}: expected 'package.module:function'")
    module = importlib.import_module(mod_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"{what} {path!r}: {mod_name} has no {attr!r}") from None


def engine_config(settings: TelephonySettings, worker: int = 0) -> EngineConfig:
    t = settings.trunk
    return EngineConfig(
        bind_host=settings.bind_host,
        sip_port=settings.sip_port + worker if settings.sip_port else 0,
        transport=settings.transport,
        max_calls=settings.calls_per_worker,
        codecs=list(settings.codecs),
        rtp_port=(
            settings.rtp_port_start + worker * settings.rtp_ports_per_worker
            if settings.rtp_port_start
            else 0
        ),
        rtp_port_range=settings.rtp_ports_per_worker if settings.rtp_port_start else 0,
        account=TrunkAccount(
            id_uri=t.caller_id,
            registrar=t.registrar,
            username=t.username,
            password=t.password,
            realm=t.realm,
            proxy=t.proxy,
            register_timeout_s=t.register_timeout_s,
        ),
        rtp_timeout_s=settings.rtp_timeout_s,
        tls_ca_file=settings.tls_ca_file,
        tls_cert_file=settings.tls_cert_file,
        tls_key_file=settings.tls_key_file,
        log_level=0,
    )


def say_and_wait(line: Line, request: dict[str, Any]) -> dict[str, Any]:
    """The default conversation (and `cuckoo call`): say a text or play a WAV, then wait for
    a key. A key in `confirm_keys` (default "1") confirms; otherwise the message was delivered."""
    said: list[str] = []
    text = request.get("say") or (request.get("variables") or {}).get("text") or ""
    wav = request.get("wav")
    if wav:
        reply = line.play(Audio.read_wav(wav))
        said.append(f"<{Path(wav).name}>")
    elif text:
        reply = line.say(text)
        said.append(text)
    else:
        reply = None
    digits = ""
    if reply is not None and reply.kind == ReplyKind.MACHINE:
        return {
            "outcome": Outcome.VOICEMAIL.value,
            "dtmf": "",
            "said": said,
            "detail": f"answering machine: {reply.text}",
        }
    if reply is not None and reply.kind == ReplyKind.HANGUP:
        return {
            "outcome": Outcome.REJECTED.value,
            "dtmf": "",
            "said": said,
            "detail": "hung up during the message",
        }
    if reply is not None and reply.kind == ReplyKind.DTMF:
        digits = reply.digits
    wait = float(request.get("wait_dtmf_s", 5.0) or 0)
    if not digits and wait > 0:
        r = line.listen(Expect(speech=False, no_speech_timeout_s=wait))
        if r.kind == ReplyKind.MACHINE:
            return {
                "outcome": Outcome.VOICEMAIL.value,
                "dtmf": "",
                "said": said,
                "detail": f"answering machine: {r.text}",
            }
        if r.kind == ReplyKind.DTMF:
            digits = r.digits
    confirm = str(request.get("confirm_keys", "1"))
    outcome = Outcome.CONFIRMED if digits and digits[0] in confirm else Outcome.DELIVERED
    return {"outcome": outcome.value, "dtmf": digits, "transcript": "", "said": said}


def run_call(
    engine: Any,
    uri: str,
    request: dict[str, Any],
    *,
    settings: TelephonySettings,
    converse: Converse = say_and_wait,
    synthesizer: Synthesizer | None = None,
    recognizer_factory: RecognizerFactory | None = None,
    record_path: str | None = None,
    ring_timeout_s: float | None = None,
    handles: list[Any] | None = None,
) -> dict[str, Any]:
    """Dial `uri`, converse, hang up. `handles` (if given) gets the CallHandle, so a worker
    can tell when pjsua really released the call slot. Returns plain data (it crosses
    process boundaries):
    outcome, sip_code, q850, dtmf, transcript, said, callback_at, sms_text (an `sms:` step's
    text, to send after the call), started_at, answered_at, ended_at (ISO), duration_s, detail,
    recording_path, first_audio_s, dtmf_reaction_s, remote_hangup, codec, amd (the
    answering-machine verdict and why: "machine: a beep (1000 Hz)")."""
    # request["greeting_wav"]: a pre-rendered first prompt, started with the first media
    # frame; the conversation must begin by playing the same file (SipLine follows it).
    greeting = Audio.read_wav(request["greeting_wav"]) if request.get("greeting_wav") else None
    d = dial(
        engine,
        uri,
        ring_timeout_s=ring_timeout_s or settings.ring_timeout_s,
        setup_timeout_s=settings.setup_timeout_s,
        greeting=greeting,
    )
    if handles is not None and d.handle is not None:
        handles.append(d.handle)
    result: dict[str, Any] = {
        "uri": uri,
        "started_at": d.started_at.isoformat(),
        "answered_at": d.answered_at.isoformat() if d.answered_at else None,
        "sip_code": d.sip_code,
        "q850": d.q850,
        "dtmf": "",
        "transcript": "",
        "said": [],
        "callback_at": None,
        "sms_text": None,
        "detail": d.detail,
        "recording_path": None,
        "first_audio_s": None,
        "dtmf_reaction_s": [],
        "remote_hangup": False,
        "codec": "",
        "amd": "",
    }
    if not d.answered:
        assert d.outcome is not None
        ended = d.ended_at or datetime.now(UTC)
        result.update(outcome=d.outcome.value, ended_at=ended.isoformat())
        result["duration_s"] = (ended - d.started_at).total_seconds()
        return result
    assert d.handle is not None
    line = SipLine(
        d.handle,
        synthesizer=synthesizer,
        recognizer_factory=recognizer_factory,
        inband_dtmf=settings.inband_dtmf,
        max_duration_s=settings.max_call_s,
        record_path=record_path,
        preloaded=greeting,
        settings=settings,
    )
    try:
        conv = converse(line, request)
    except Exception as e:
        # Our side failed (a scenario or TTS error), not the customer: INTERRUPTED is retried
        # and is not a contact; counting it as "delivered" would eat into the barrier.
        log.exception("conversation failed on %s", uri)
        conv = {"outcome": Outcome.INTERRUPTED.value, "detail": f"conversation error: {e}"}
    finally:
        line.hangup()
    ended = datetime.now(UTC)
    outcome = conv.get("outcome") or Outcome.DELIVERED.value
    result.update(
        outcome=str(outcome),
        dtmf=conv.get("dtmf") or line.stats.dtmf,
        transcript=conv.get("transcript") or " | ".join(line.stats.transcript),
        said=list(conv.get("said") or line.stats.said),
        callback_at=conv.get("callback_at"),
        sms_text=conv.get("sms_text") or None,  # the dialog's `sms:` step: sent after the call
        ended_at=ended.isoformat(),
        duration_s=(ended - d.started_at).total_seconds(),
        recording_path=record_path,
        first_audio_s=line.stats.first_audio_after_answer_s,
        dtmf_reaction_s=line.stats.dtmf_reaction_s,
        dtmf_received_at=line.stats.dtmf_received_at,
        remote_hangup=line.remote_hangup,
        codec=d.handle.codec,
        amd=": ".join(x for x in line.answering_machine if x),
    )
    cause = d.handle.hangup_cause
    if cause == "shutdown":
        # our side stopped mid-call: not the customer's doing, whatever the dialog concluded
        result["outcome"] = Outcome.INTERRUPTED.value
    detail = conv.get("detail") or ""
    if line.transferred_to:
        detail = (detail + "; " if detail else "") + f"transferred to {line.transferred_to}"
    elif line.remote_hangup:
        detail = (detail + "; " if detail else "") + "customer hung up"
    elif cause in ("rtp_timeout", "max_duration", "shutdown"):
        detail = (detail + "; " if detail else "") + cause.replace("_", " ")
    result["detail"] = detail
    return result


def wait_all_ended(engine: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while engine.active_calls and time.monotonic() < deadline:
        time.sleep(0.05)
