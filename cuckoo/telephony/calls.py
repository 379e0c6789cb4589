"""One call from dial to hang-up inside a process that owns an Engine: dial, run the
conversation over a SipLine, merge the SIP facts with what the conversation decided."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from cuckoo.clock import utcnow
from cuckoo.config.telephony import TelephonySettings, TrunkSettings
from cuckoo.domain import Outcome
from cuckoo.errors import InputError
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.audio import TELEPHONY_RATE, Audio
from cuckoo.line.leg import (
    CallReport,
    CallRequest,
    Conversation,
    ConversationResult,
    PreparedConversation,
)
from cuckoo.line.speech import RecognizerFactory, Synthesizer
from cuckoo.telephony.engine import CallHandle, Engine, EngineConfig, TrunkAccount
from cuckoo.telephony.session import SipLine, dial

log = logging.getLogger(__name__)


def trunk_account(t: TrunkSettings) -> TrunkAccount:
    return TrunkAccount(
        id_uri=t.caller_id,
        registrar=t.registrar,
        username=t.username,
        password=t.password,
        realm=t.realm,
        proxy=t.proxy,
        register_timeout_s=t.register_timeout_s,
    )


def engine_config(settings: TelephonySettings, worker: int = 0) -> EngineConfig:
    """The one-trunk form is the engine's default account; `[telephony.trunks.NAME]` are
    accounts by name (CallRequest.trunk)."""
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
        account=trunk_account(settings.trunk),
        trunks={name: trunk_account(t) for name, t in settings.trunks.items()},
        rtp_timeout_s=settings.rtp_timeout_s,
        tls_ca_file=settings.tls_ca_file,
        tls_cert_file=settings.tls_cert_file,
        tls_key_file=settings.tls_key_file,
        log_level=0,
    )


@dataclass(frozen=True)
class SayAndWait:
    """The conversation of `cuckoo call` (and of a pool given no other): say a text or play a
    WAV, then wait for a key. A key in `confirm_keys` confirms; otherwise the message was
    delivered. Without `say`, the notification's `text` variable is said."""

    say: str = ""
    wav: str = ""
    wait_dtmf_s: float = 5.0
    confirm_keys: str = "1"

    def __call__(self, line: Line, request: CallRequest) -> ConversationResult:
        n = request.notification
        text = self.say or (str(n.variables.get("text") or "") if n else "")
        said: tuple[str, ...] = ()
        reply = None
        if self.wav:
            reply = line.play(Audio.read_wav(self.wav))
            said = (f"<{Path(self.wav).name}>",)
        elif text:
            reply = line.say(text)
            said = (text,)
        if reply is not None and reply.kind == ReplyKind.MACHINE:
            return ConversationResult(
                Outcome.VOICEMAIL, said=said, detail=f"answering machine: {reply.text}"
            )
        if reply is not None and reply.kind == ReplyKind.HANGUP:
            return ConversationResult(
                Outcome.REJECTED, said=said, detail="hung up during the message"
            )
        digits = reply.digits if reply is not None and reply.kind == ReplyKind.DTMF else ""
        if not digits and self.wait_dtmf_s > 0:
            r = line.listen(Expect(speech=False, no_speech_timeout_s=self.wait_dtmf_s))
            if r.kind == ReplyKind.MACHINE:
                return ConversationResult(
                    Outcome.VOICEMAIL, said=said, detail=f"answering machine: {r.text}"
                )
            if r.kind == ReplyKind.DTMF:
                digits = r.digits
        confirmed = bool(digits) and digits[0] in self.confirm_keys
        return ConversationResult(
            Outcome.CONFIRMED if confirmed else Outcome.DELIVERED, dtmf=digits, said=said
        )


def _with(detail: str, more: str) -> str:
    return f"{detail}; {more}" if detail else more


def run_call(
    engine: Engine,
    request: CallRequest,
    *,
    settings: TelephonySettings,
    converse: Conversation,
    synthesizer: Synthesizer | None = None,
    recognizer_factory: RecognizerFactory | None = None,
    handles: list[CallHandle] | None = None,
) -> CallReport:
    """Dial `request.uri`, converse, hang up. `handles` (if given) gets the CallHandle, so a
    worker can tell when pjsua really released the call slot."""
    uri = request.uri
    greeting = Audio.read_wav(request.greeting_wav) if request.greeting_wav else None
    if isinstance(converse, PreparedConversation):
        started = utcnow()
        try:
            converse.prepare(request, synthesizer)
        except Exception as e:
            # Known before anybody answers: nobody is called into silence. The row's data
            # (InputError) makes it INVALID; our side (scenario, voice) FAILED.
            bad_input = isinstance(e, InputError)
            log.warning("not dialled %s: %s", uri, e)
            return CallReport.failed(
                uri,
                Outcome.INVALID_NUMBER if bad_input else Outcome.FAILED,
                f"not dialled: {'bad input: ' if bad_input else ''}{e}",
                started,
            )
    apology = _apology(synthesizer, settings)
    d = dial(
        engine,
        uri,
        ring_timeout_s=request.ring_timeout_s or settings.ring_timeout_s,
        setup_timeout_s=settings.setup_timeout_s,
        greeting=greeting,
        trunk=request.trunk,
        from_uri=request.from_uri,
        amd=settings.amd,  # its early_media switch: SIT tones / announcements while ringing
    )
    if handles is not None and d.handle is not None:
        handles.append(d.handle)
    if not d.answered:
        assert d.outcome is not None
        return CallReport(
            uri,
            d.outcome,
            d.started_at,
            d.ended_at or utcnow(),
            sip_code=d.sip_code,
            q850=d.q850,
            detail=d.detail,
            local_failure=d.local_failure,
            no_response=d.no_response,
        )
    assert d.handle is not None
    line = SipLine(
        d.handle,
        synthesizer=synthesizer,
        recognizer_factory=recognizer_factory,
        inband_dtmf=settings.inband_dtmf,
        max_duration_s=settings.max_call_s,
        record_path=request.record_path,
        preloaded=greeting,
        settings=settings,
    )
    try:
        conv = converse(line, request)
    except Exception as e:
        # Our side failed after the customer answered (a voice failing on a text, a bug):
        # the customer hears an apology instead of silence, and the same text would fail
        # again, so it is FAILED (final, reported), not retried blindly.
        log.exception("conversation failed after the answer on %s", uri)
        if apology is not None:
            with contextlib.suppress(Exception):
                line.play(apology, barge_in=False)
        conv = ConversationResult(Outcome.FAILED, detail=f"after the answer: {e}")
    finally:
        line.hangup()
    ended = utcnow()
    outcome = conv.outcome
    cause = d.handle.hangup_cause
    if cause == "shutdown":
        # our side stopped mid-call: not the customer's doing, whatever the dialog concluded
        outcome = Outcome.INTERRUPTED
    detail = conv.detail
    if line.transferred_to:
        detail = _with(detail, f"transferred to {line.transferred_to}")
    elif line.remote_hangup:
        detail = _with(detail, "customer hung up")
    elif cause in ("rtp_timeout", "max_duration", "shutdown"):
        detail = _with(detail, cause.replace("_", " "))
    return CallReport(
        uri,
        outcome,
        d.started_at,
        ended,
        answered_at=d.answered_at,
        sip_code=d.sip_code,
        q850=d.q850,
        dtmf=conv.dtmf or line.stats.dtmf,
        transcript=conv.transcript or " | ".join(line.stats.transcript),
        said=conv.said or tuple(line.stats.said),
        path=conv.path,
        callback_at=conv.callback_at,
        sms_text=conv.sms_text or None,
        detail=detail,
        recording_path=request.record_path,
        first_audio_s=line.stats.first_audio_after_answer_s,
        dtmf_reaction_s=tuple(line.stats.dtmf_reaction_s),
        dtmf_received_at=tuple(line.stats.dtmf_received_at),
        remote_hangup=line.remote_hangup,
        codec=d.handle.codec,
        amd=": ".join(x for x in line.answering_machine if x),
    )


def wait_all_ended(engine: Engine, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while engine.active_calls and time.monotonic() < deadline:
        time.sleep(0.05)


def _apology(synthesizer: Synthesizer | None, settings: TelephonySettings) -> Audio | None:
    """What a customer hears when our side fails mid-call, rendered before dialling (from the
    phrase cache after the first time); None: hang up at once (no voice, or it fails even
    on this)."""
    if synthesizer is None or not settings.apology:
        return None
    try:
        return synthesizer.synthesize(settings.apology, rate=TELEPHONY_RATE)
    except Exception as e:
        log.warning("the apology cannot be synthesized (%s): a failure mid-call hangs up", e)
        return None
