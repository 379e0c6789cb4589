"""Dialing and `SipLine`: one live call as the dialog sees it (cuckoo.line.Line).

Everything here runs in the caller's thread (one thread per call); pjsua2 is touched only by
the engine's owner thread. The line consumes the call's received frames and events itself:
DTMF (RFC 2833 / SIP INFO from pjsua2, in-band tones from the Goertzel detector), speech start
and utterances (cuckoo.line.endpointing.UtteranceListener), hang-up, the call's time limit,
and answering-machine detection (cuckoo.telephony.amd) on the far end's audio from the answer
on, while the robot already speaks: a MACHINE verdict interrupts whatever say/play/listen runs
with a MACHINE reply, once. Until the detector has judged the far end's greeting, speech does
not barge in on a prompt (keys do).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cuckoo.config.private import private_file
from cuckoo.config.telephony import AmdSettings, TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.errors import EngineError, InputError, TooManyCalls
from cuckoo.line import Expect, Reply, ReplyKind
from cuckoo.line.audio import TELEPHONY_RATE, Audio
from cuckoo.line.endpointing import UtteranceListener
from cuckoo.line.speech import RecognizerFactory, StreamingSynthesizer, Synthesizer, speech_chunks
from cuckoo.telephony.amd import AnsweringMachineDetector, Verdict
from cuckoo.telephony.dialplan import target_uri
from cuckoo.telephony.dtmf import DtmfDetector
from cuckoo.telephony.early import EarlyDecision, EarlyKind, EarlyMediaDetector
from cuckoo.telephony.engine import CallHandle, Engine, Player
from cuckoo.telephony.outcomes import DialFacts, dial_outcome, early_media_outcome

log = logging.getLogger(__name__)

INTER_DIGIT_TIMEOUT_S = 3.0
# pjsip statuses of a target it cannot even address (171042 PJSIP_EINVALIDREQURI, 171039
# PJSIP_EINVALIDURI, 171041 PJSIP_EINVALIDSCHEME, 171005 PJSIP_ENOROUTESET for tel: and the
# like). Anything else (e.g. 70010 PJ_ETOOMANY: no free call slot) is our side's trouble.
BAD_TARGET_STATUS = frozenset({171005, 171039, 171041, 171042})
PREROLL_FRAMES = 15  # audio kept from before speech start (300 ms) for the next listen()


def _now() -> datetime:
    return datetime.now(UTC)


def _wall(mono: float | None, ref_mono: float, ref_wall: datetime) -> datetime | None:
    return None if mono is None else ref_wall + timedelta(seconds=mono - ref_mono)


@dataclass
class DialResult:
    outcome: Outcome | None  # None: answered
    started_at: datetime
    ended_at: datetime | None = None  # set when the attempt ended without an answer
    answered_at: datetime | None = None
    sip_code: int | None = None
    q850: int | None = None
    reason: str = ""
    detail: str = ""
    handle: CallHandle | None = None
    answered_mono: float | None = None
    local_failure: bool = False  # our own stack refused to place it: not the trunk's doing
    no_response: bool = False  # not even 100 Trying came back (nobody at the trunk's address)

    @property
    def answered(self) -> bool:
        return self.outcome is None


class _EarlyMedia:
    """Early media of a call being placed, judged in dial()'s thread: the media clock thread
    only queues the frames (CallHandle.early_tap), the detector's FFTs run here."""

    def __init__(self, h: CallHandle, settings: AmdSettings) -> None:
        self.h = h
        self.detector = EarlyMediaDetector(settings)
        self.frames: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.kind = EarlyKind.UNDECIDED
        h.early_tap = self.frames.put

    def judge(self) -> EarlyDecision | None:
        """The decision once it is final (hang up), else None."""
        d = self.detector.decision
        while not d.final:
            try:
                d = self.detector.feed(self.frames.get_nowait())
            except queue.Empty:
                break
        if d.kind != self.kind:
            self.kind = d.kind
            log.info("call %s: early media: %s", self.h.call_id, d.reason or d.kind.value)
        return d if d.final else None

    def close(self) -> None:
        self.h.early_tap = None


def _refused_in_early_media(h: CallHandle, d: EarlyDecision, started: datetime) -> DialResult:
    """The network said in its early media that nobody will answer: CANCEL now."""
    h.hangup(cause="early_media")
    h.disconnected.wait(2.0)  # for the final code (487, or the far end's own 404/480)
    outcome = early_media_outcome(invalid=d.invalid)
    log.info("call %s: %s → %s", h.call_id, d.reason, outcome.value)
    code = h.sip_code if h.sip_code and h.sip_code >= 300 else None
    return DialResult(
        outcome,
        started,
        _now(),
        sip_code=code,
        q850=h.q850,
        reason=h.reason,
        detail=f"{d.reason} (early media)",
        handle=h,
    )


def dial(
    engine: Engine,
    uri: str,
    *,
    ring_timeout_s: float,
    setup_timeout_s: float = 8.0,
    greeting: Audio | None = None,
    trunk: str = "",
    from_uri: str = "",
    amd: AmdSettings | None = None,
) -> DialResult:
    """Place a call and wait until it is answered or has failed. We CANCEL ourselves after
    `ring_timeout_s` (pjsip has no ring timeout), and give up after `setup_timeout_s` with no
    SIP response at all (nobody at that address). A pre-rendered `greeting` starts with the
    first media frame, without waiting for any Python thread (give the same Audio to
    SipLine(preloaded=...) and play it first). With `amd.early_media`, early media is judged
    while it rings (cuckoo.telephony.early): a SIT or an operator's announcement CANCELs the
    call at once, as unreachable (no_answer) or invalid_number."""
    started = _now()
    t0 = time.monotonic()
    try:
        h = engine.dial(
            uri,
            preload=greeting.resample(TELEPHONY_RATE).pcm if greeting else None,
            trunk=trunk,
            from_uri=from_uri,
        )
    except TooManyCalls as e:
        return DialResult(
            Outcome.NETWORK, started, _now(), detail=f"local: {e}", local_failure=True
        )
    except EngineError as e:
        return DialResult(
            Outcome.NETWORK, started, _now(), detail=f"local: {e}", local_failure=True
        )
    except Exception as e:  # pjsua2.Error: the stack refused to place the call
        status = getattr(e, "status", None)
        reason = str(getattr(e, "reason", "") or e).strip() or type(e).__name__
        bad_uri = status in BAD_TARGET_STATUS
        return DialResult(
            dial_outcome(DialFacts(False, None, bad_uri=bad_uri, local_error=not bad_uri)),
            started,
            _now(),
            detail=f"cannot dial {uri!r}: {reason}" if bad_uri else f"local: {reason}",
            local_failure=True,
        )
    ring_timeout = setup_timeout = False
    early = _EarlyMedia(h, amd) if amd is not None and amd.early_media else None
    refused: EarlyDecision | None = None
    while True:
        if h.confirmed.wait(0.02) or h.disconnected.is_set():
            break
        if early is not None:
            refused = early.judge()
            if refused is not None:
                break
        elapsed = time.monotonic() - t0
        if not h.any_response and elapsed > setup_timeout_s:
            setup_timeout = True
            break
        if elapsed > ring_timeout_s:
            ring_timeout = True
            break
    if early is not None:
        early.close()
    if refused is not None:
        return _refused_in_early_media(h, refused, started)
    if h.confirmed.is_set() and not h.disconnected.is_set():
        return DialResult(
            None,
            started,
            answered_at=_wall(h.answered_at, t0, started),
            sip_code=200,
            reason="OK",
            handle=h,
            answered_mono=h.answered_at,
        )
    if ring_timeout or setup_timeout:
        h.hangup(cause="ring_timeout" if ring_timeout else "setup_timeout")
        h.disconnected.wait(2.0)  # for the final code (487); a missing answer is not fatal
    facts = DialFacts(
        answered=False,
        sip_code=h.sip_code if h.sip_code and h.sip_code >= 300 else None,
        q850=h.q850,
        any_response=h.any_response,
        ring_timeout=ring_timeout,
        setup_timeout=setup_timeout,
    )
    detail = "ring timeout" if ring_timeout else "no SIP response" if setup_timeout else ""
    return DialResult(
        dial_outcome(facts),
        started,
        _now(),
        sip_code=facts.sip_code,
        q850=h.q850,
        reason=h.reason,
        detail=detail or f"{h.sip_code} {h.reason}".strip(),
        handle=h,
        no_response=setup_timeout,
    )


@dataclass
class LineStats:
    said: list[str] = field(default_factory=list)
    dtmf: str = ""
    transcript: list[str] = field(default_factory=list)
    first_audio_after_answer_s: float | None = None
    # key press received → first frame of the next prompt pulled by the media clock
    dtmf_reaction_s: list[float] = field(default_factory=list)
    dtmf_received_at: list[float] = field(default_factory=list)  # monotonic, per key


class SipLine:
    """`cuckoo.line.Line` over an answered call."""

    def __init__(
        self,
        handle: CallHandle,
        *,
        synthesizer: Synthesizer | None = None,
        recognizer_factory: RecognizerFactory | None = None,
        inband_dtmf: bool = True,
        max_duration_s: float = 600.0,
        record_path: str | Path | None = None,
        on_reply: Callable[[Reply], None] | None = None,
        preloaded: Audio | None = None,
        settings: TelephonySettings | None = None,
        transfer_timeout_s: float | None = None,  # None: settings.transfer_timeout_s
    ) -> None:
        self.h = handle
        self.settings = settings or TelephonySettings()  # the dial plan, for transfer()
        self.transfer_timeout_s = (
            self.settings.transfer_timeout_s if transfer_timeout_s is None else transfer_timeout_s
        )
        self.transferred_to: str | None = None  # the URI a successful transfer went to
        self.transfer_failure = ""  # why the last transfer failed, for the call's detail
        # the greeting dial() already started: play() of the same audio just waits for it
        self._preloaded = preloaded.resample(TELEPHONY_RATE).pcm if preloaded else None
        self.synthesizer = synthesizer
        self.recognizer_factory = recognizer_factory
        self._detector: DtmfDetector | None = DtmfDetector() if inband_dtmf else None
        self._digits: deque[str] = deque()  # pressed and not yet consumed (type-ahead)
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self._carry: list[bytes] = []  # audio since a barge-in speech start, for listen()
        self._deadline = (handle.answered_at or time.monotonic()) + max_duration_s
        self.record_path = Path(record_path) if record_path else None
        if self.record_path is not None:
            handle.start_recording()
        self.on_reply = on_reply
        self.stats = LineStats()
        self.hung_up = False
        self._frames: list[bytes] = []  # received by the last _pump
        self._dtmf_at: float | None = None  # when the last key arrived (monotonic)
        amd = self.settings.amd
        self.amd = AnsweringMachineDetector(amd) if amd.enabled else None
        self._machine_told = False
        self._amd_live = self.amd is not None
        # RMS of each frame we send (media clock thread → here), for the detector's echo gate
        self._tx_levels: deque[float] = deque(maxlen=500)
        if self.amd is not None:
            handle.tx_tap = self._on_tx

    # ---- the Line protocol --------------------------------------------------------------------
    # The last say()'s producer: when each piece was ready (the streaming tests read it).
    last_feed: SpeechFeed | None = None

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        if self.synthesizer is None:
            raise EngineError("this line has no synthesizer: cannot say text")
        if not isinstance(self.synthesizer, StreamingSynthesizer):
            audio = self.synthesizer.synthesize(text, rate=TELEPHONY_RATE)
            self.stats.said.append(text)
            return self._play(audio, barge_in=barge_in)
        # Streamed: the first sentence plays while the next ones are synthesized.
        feed = self.last_feed = SpeechFeed(self.synthesizer, text)
        try:
            first = feed.first()  # a voice that fails on the text raises here, as before
            self.stats.said.append(text)
            return self._play(first, barge_in=barge_in, feed=feed)
        finally:
            feed.close()  # a barge-in or a hang-up stops the synthesis too

    def play(self, audio: Audio, *, barge_in: bool = True) -> Reply | None:
        return self._play(audio, barge_in=barge_in)

    def listen(self, expect: Expect) -> Reply:
        if self._gone():
            return Reply.hangup()
        digits = self._take_digits(expect)
        if digits is not None and len(digits) >= expect.max_digits:
            return self._reply(Reply(ReplyKind.DTMF, digits=digits))
        collected = digits or ""
        listener = self._new_listener(expect, expect.no_speech_timeout_s)
        start = time.monotonic()
        wall_limit = start + expect.no_speech_timeout_s + expect.max_utterance_s + 2.0
        last_digit_at = start
        backlog = self._carry
        self._carry = []
        for frame in backlog:
            ev = listener.feed(frame)
            if ev is not None and ev.kind == "final" and ev.text:
                return self._reply(Reply(ReplyKind.SPEECH, text=ev.text, confidence=ev.confidence))
        while True:
            got = self._pump(0.02)
            if got == "hangup":
                return self._reply(Reply.hangup())
            machine = self._machine_news()
            if machine is not None:
                return self._reply(machine)
            for d in self._drain_digits():
                if d in expect.dtmf:
                    collected += d
                    last_digit_at = time.monotonic()
            if collected and (
                len(collected) >= expect.max_digits
                or collected.endswith("#")
                or time.monotonic() - last_digit_at > INTER_DIGIT_TIMEOUT_S
            ):
                return self._reply(Reply(ReplyKind.DTMF, digits=collected.rstrip("#") or "#"))
            for frame in self._frames:
                ev = listener.feed(frame)
                if ev is None:
                    continue
                if ev.kind == "final":
                    if ev.text:
                        return self._reply(
                            Reply(ReplyKind.SPEECH, text=ev.text, confidence=ev.confidence)
                        )
                    # Speech without words (noise, or a DTMF-only line): keep waiting for the
                    # rest of the no-speech time.
                    left = expect.no_speech_timeout_s - (time.monotonic() - start)
                    if left <= 0.1:
                        return self._finish_silence(collected)
                    listener = self._new_listener(expect, left)
                elif ev.kind == "no_speech":
                    return self._finish_silence(collected)
            self._frames = []
            if time.monotonic() > wall_limit:  # no audio arriving at all (e.g. RTP stalled)
                return self._finish_silence(collected)

    def hangup(self) -> None:
        if not self.h.disconnected.is_set():
            self.h.hangup(cause="robot")
            self.h.disconnected.wait(3.0)
        self.hung_up = True
        self.close()

    def transfer(self, target: str) -> bool:
        """Blind transfer (REFER) of the customer to `target` (a number through the dial plan,
        or a SIP URI). True once the peer reports the new call answered (a 2xx NOTIFY): our
        leg is then hung up. False (the call goes on; `transfer_failure` says why) if the
        target is not dialable, the peer refuses the REFER, the new call fails, or no final
        NOTIFY comes within `transfer_timeout_s` — then the REFER is abandoned: a NOTIFY that
        comes later is ignored (CallHandle.abandon_transfer)."""
        self.transfer_failure = ""
        if self._gone():
            self.transfer_failure = "the call is over"
            return False
        try:
            uri = target_uri(target, self.settings)
        except InputError as e:
            log.warning("call %s: no transfer: %s", self.h.call_id, e)
            self.transfer_failure = str(e)
            return False
        try:
            self.h.transfer(uri).result(5.0)
        except Exception as e:  # pjsua2.Error (a URI it cannot use), EngineError, timeout
            log.warning("call %s: REFER to %s not sent: %s", self.h.call_id, uri, e)
            self.h.xfer_pending = False
            self.transfer_failure = f"REFER not sent: {e}"
            return False
        deadline = time.monotonic() + self.transfer_timeout_s
        hung_up = False
        while not self.h.xfer_final.is_set():
            if self._pump(0.05) == "hangup":
                hung_up = True
                break
            if time.monotonic() > deadline:
                break
            self._frames = []
        codes = self.h.xfer_codes
        final = codes[-1] if self.h.xfer_final.is_set() and codes else None
        if final is None or not 200 <= final < 300:
            if final is not None:
                self.transfer_failure = f"{final} {self.h.xfer_reason}".strip()
            else:
                self.h.abandon_transfer()  # whatever the peer reports later is not heeded
                self.transfer_failure = (
                    "the customer hung up"
                    if hung_up
                    else f"no final NOTIFY in {self.transfer_timeout_s:g} s"
                )
            log.info(
                "call %s: transfer to %s failed (%s)", self.h.call_id, uri, self.transfer_failure
            )
            return False
        log.info("call %s: transferred to %s", self.h.call_id, uri)
        self.transferred_to = uri
        if not self.h.disconnected.is_set():
            self.h.hangup(cause="transferred")
            self.h.disconnected.wait(3.0)
        self.hung_up = True
        self.close()
        return True

    # ---- extras -------------------------------------------------------------------------------
    def wait_for_beep(self, timeout_s: float | None = None) -> bool:
        """After a MACHINE reply: wait until the machine records (its beep ended, or silence;
        see cuckoo.telephony.amd). False on hang-up or after `timeout_s` (default
        [telephony.amd] beep_wait_s) without either."""
        limit = time.monotonic() + (timeout_s or self.settings.amd.beep_wait_s)
        while True:
            amd = self.amd
            if amd is None or amd.verdict != Verdict.MACHINE or amd.ready:
                if amd is not None:
                    log.info("call %s: voicemail records (%s)", self.h.call_id, amd.ready_reason)
                return not self._gone()
            if self._pump(0.02) == "hangup" or time.monotonic() > limit:
                return False
            self._frames = []

    @property
    def answering_machine(self) -> tuple[str, str]:
        """(verdict, reason) of the answering-machine detector: human | machine | undecided
        ("off" when it is disabled)."""
        if self.amd is None:
            return "off", ""
        return self.amd.verdict.value, self.amd.reason

    def close(self) -> None:
        """Write the recording (if any). Safe to call twice."""
        if self.record_path is None or self.h.record_tx is None or self.h.record_rx is None:
            return
        write_stereo_wav(self.record_path, self.h.record_tx, self.h.record_rx)
        self.h.record_tx = self.h.record_rx = None

    @property
    def remote_hangup(self) -> bool:
        return self.h.remote_hangup

    def wait_dtmf(self, timeout_s: float, keys: str = "0123456789*#", max_digits: int = 1) -> Reply:
        """DTMF only, for `cuckoo call --wait-dtmf`."""
        return self.listen(
            Expect(dtmf=keys, max_digits=max_digits, speech=False, no_speech_timeout_s=timeout_s)
        )

    # ---- internals ----------------------------------------------------------------------------
    def _gone(self) -> bool:
        return self.h.disconnected.is_set()

    def _on_tx(self, frame: bytes) -> None:
        # Media clock thread, every frame: keep it cheap.
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        self._tx_levels.append(float(np.sqrt(np.dot(x, x) / max(1, len(x)))))

    def _greeting_open(self) -> bool:
        # The far end's first words after the answer are its greeting: they do not barge in
        # on the robot's message (a person's «Алло?» is no answer; a machine's greeting must
        # be heard out to be recognized). Keys always do.
        return self.amd is not None and self._amd_live and self.amd.greeting_open

    def _machine_news(self) -> Reply | None:
        """A MACHINE reply the first time the detector says so, else None."""
        amd = self.amd
        if amd is None or self._machine_told or amd.verdict != Verdict.MACHINE:
            return None
        self._machine_told = True
        log.info("call %s: answering machine (%s)", self.h.call_id, amd.reason)
        return Reply.machine(amd.reason)

    def _feed_amd(self, frames: list[bytes]) -> None:
        amd = self.amd
        if amd is None or not self._amd_live:
            return
        sent: list[float] = []
        while self._tx_levels:
            sent.append(self._tx_levels.popleft())
        # rx and tx frames come in pairs on the media clock; align the newest with the newest
        sent = ([0.0] * len(frames) + sent)[-len(frames) :] if frames else []
        for f, level in zip(frames, sent, strict=True):
            amd.feed(f, level)
        if amd.done and (amd.verdict != Verdict.MACHINE or amd.ready):
            # nothing more to learn: stop feeding (the verdict stays for answering_machine)
            self._amd_live = False
            self.h.tx_tap = None
            self._tx_levels.clear()
            if amd.verdict != Verdict.MACHINE:
                log.info(
                    "call %s: answering-machine check: %s (%s)",
                    self.h.call_id,
                    amd.verdict.value,
                    amd.reason,
                )

    def _reply(self, r: Reply) -> Reply:
        if r.kind == ReplyKind.DTMF:
            self.stats.dtmf += r.digits
        elif r.kind == ReplyKind.SPEECH and r.text:
            self.stats.transcript.append(r.text)
            # a voicemail's or a carrier assistant's words («голосовой помощник») make it a
            # machine even when its greeting was too short for the level rules
            if self.amd is not None and self.amd.note_transcript(r.text):
                r = self._machine_news() or r
        if self.on_reply is not None:
            self.on_reply(r)
        return r

    def _finish_silence(self, collected: str) -> Reply:
        if collected:
            return self._reply(Reply(ReplyKind.DTMF, digits=collected))
        return self._reply(Reply.silence())

    def _new_listener(self, expect: Expect, no_speech_s: float) -> UtteranceListener:
        rec = None
        if expect.speech and self.recognizer_factory is not None:
            rec = self.recognizer_factory(expect.grammar)
        return UtteranceListener(
            rec,
            no_speech_timeout_s=max(no_speech_s, 0.1),
            end_silence_s=expect.end_silence_s,
            max_utterance_s=expect.max_utterance_s,
        )

    def _take_digits(self, expect: Expect) -> str | None:
        if not self._digits:
            return None
        out = ""
        while self._digits and len(out) < expect.max_digits:
            d = self._digits.popleft()
            if d in expect.dtmf:
                out += d
        return out or None

    def _drain_digits(self) -> list[str]:
        out = list(self._digits)
        self._digits.clear()
        return out

    def _pump(self, timeout: float) -> str | None:
        """Collect received frames into self._frames and DTMF into self._digits.
        Returns "hangup" when the call is over (either side, or the time limit)."""
        frames: list[bytes] = []
        try:
            f = self.h.rx.get(timeout=timeout)
            while True:
                if f:  # b"" only wakes us up (DTMF, hang-up)
                    frames.append(f)
                f = self.h.rx.get_nowait()
        except queue.Empty:
            pass
        while True:
            try:
                kind, data = self.h.events.get_nowait()
            except queue.Empty:
                break
            if kind == "dtmf":
                if self.amd is not None:
                    self.amd.note_dtmf()
                self._digits.append(data[0])
                self._dtmf_at = data[2]
                self.stats.dtmf_received_at.append(data[2])
                self._detector = None  # the trunk signals keys out of band: trust that only
        if self._detector is not None:
            for f in frames:
                for d in self._detector.feed(f):
                    if self.amd is not None:
                        self.amd.note_dtmf()
                    self._digits.append(d)
                    self._dtmf_at = time.monotonic()
                    self.stats.dtmf_received_at.append(self._dtmf_at)
        self._feed_amd(frames)
        self._frames = frames
        if self.h.disconnected.is_set():
            return "hangup"
        if time.monotonic() > self._deadline:
            log.info("call %s reached its time limit", self.h.call_id)
            self.h.hangup(cause="max_duration")
            self.h.disconnected.wait(3.0)
            return "hangup"
        return None

    def _play(
        self, audio: Audio, *, barge_in: bool, feed: SpeechFeed | None = None
    ) -> Reply | None:
        """Play `audio` (and, with `feed`, the pieces it appends while this runs) to its end,
        a barge-in, a hang-up or an answering machine's verdict."""
        if self._gone():
            return Reply.hangup()
        if audio.rate != TELEPHONY_RATE:
            audio = audio.resample(TELEPHONY_RATE)
        vad = None
        if barge_in:
            vad = UtteranceListener(
                None, no_speech_timeout_s=3600, end_silence_s=0.5, max_utterance_s=3600
            )
        self._carry = []
        self._preroll.clear()
        player = self.h.player
        if barge_in and self._digits:
            player.stop()  # a preloaded greeting may be running
            return self._reply(Reply(ReplyKind.DTMF, digits=self._digits.popleft()))
        if self._preloaded is not None and audio.pcm == self._preloaded:
            pass  # already playing (or played) since the answer: just follow it
        else:
            player.load(audio.pcm)
        if feed is not None:
            feed.attach(player, player.generation)
        self._preloaded = None
        dtmf_at, self._dtmf_at = self._dtmf_at, None
        while True:
            got = self._pump(0.02)
            if dtmf_at is not None and player.first_frame_at is not None:
                self.stats.dtmf_reaction_s.append(player.first_frame_at - dtmf_at)
                dtmf_at = None
            if (
                self.stats.first_audio_after_answer_s is None
                and player.first_frame_at is not None
                and self.h.answered_at is not None
            ):
                self.stats.first_audio_after_answer_s = player.first_frame_at - self.h.answered_at
            if got == "hangup":
                player.stop()
                return self._reply(Reply.hangup())
            machine = self._machine_news()
            if machine is not None:
                player.stop()  # the greeting was meant for a person
                return self._reply(machine)
            if barge_in and self._digits:
                player.stop()
                return self._reply(Reply(ReplyKind.DTMF, digits=self._digits.popleft()))
            if vad is not None and not self._greeting_open():
                for i, frame in enumerate(self._frames):
                    self._preroll.append(frame)
                    ev = vad.feed(frame)
                    if ev is not None and ev.kind == "speech_start":
                        player.stop()
                        self._carry = list(self._preroll) + self._frames[i + 1 :]
                        return self._reply(Reply(ReplyKind.SPEECH, text=""))
            self._frames = []
            # Finished is read before playing: once the producer is done, every piece is queued.
            finished = feed is None or feed.finished.is_set()
            if not player.playing and finished:
                if feed is not None and feed.error is not None:
                    raise feed.error  # a voice that failed mid-text, after what it made played
                return None


class SpeechFeed:
    """The producer of a streamed say(): a thread that pulls the synthesizer's pieces and
    appends them to the call's player while the call thread plays and listens for barge-in.

    The first piece goes to the call thread (`first()`), which starts the player with it (or
    follows the greeting dial() preloaded); the rest go straight into the player, so a sentence
    is queued the moment it is made, not at the call thread's next 20 ms turn. `close()` stops
    the synthesis (RHVoice mid-sentence: its sample callback asks `stop`), and a player that
    was stopped or reloaded refuses late pieces."""

    def __init__(self, synthesizer: Synthesizer, text: str) -> None:
        self._synthesizer = synthesizer
        self._text = text
        self._stop = threading.Event()
        self.finished = threading.Event()
        self.error: Exception | None = None
        self.started_at = time.monotonic()
        self.ready_at: list[float] = []  # monotonic time each piece was made
        self._first: queue.SimpleQueue[Audio | None] = queue.SimpleQueue()
        self._target: tuple[Player, int] | None = None
        self._attached = threading.Event()
        self._thread = threading.Thread(target=self._run, name="say-feed", daemon=True)
        self._thread.start()

    def first(self) -> Audio:
        """The first piece (empty for an empty text); raises what the synthesizer raised."""
        piece = self._first.get()
        if piece is None:
            if self.error is not None:
                raise self.error
            return Audio(b"", TELEPHONY_RATE)
        return piece

    def attach(self, player: Player, gen: int) -> None:
        """Where the next pieces go: after the audio `player.load` returned `gen` for."""
        self._target = (player, gen)
        self._attached.set()

    def close(self) -> None:
        self._stop.set()
        self._attached.set()
        self._thread.join(5.0)  # the voice checks `stop` every few ms of speech
        if self._thread.is_alive():
            log.warning("the synthesis of %r did not stop within 5 s", self._text[:40])

    def _run(self) -> None:
        pieces = speech_chunks(
            self._synthesizer, self._text, rate=TELEPHONY_RATE, stop=self._stop.is_set
        )
        try:
            for piece in pieces:
                self.ready_at.append(time.monotonic())
                if piece.rate != TELEPHONY_RATE:
                    raise EngineError(f"the voice streamed {piece.rate} Hz, not the call's rate")
                if len(self.ready_at) == 1:
                    self._first.put(piece)
                    self._attached.wait()
                    continue
                target = self._target
                queued = target is not None and target[0].append(piece.pcm, target[1])
                if not queued or self._stop.is_set():
                    self._stop.set()  # nobody plays it any more: stop making the rest
                    break
        except Exception as e:  # handed to the call thread, which raises it
            self.error = e
        finally:
            pieces.close()  # a phrase stopped half-way is not cached (VoiceSynthesizer.stream)
            self._first.put(None)  # wakes first() when nothing came
            self.finished.set()


def write_stereo_wav(path: str | Path, left: list[bytes], right: list[bytes]) -> None:
    """Left: what the robot sent; right: what it received; frame-aligned by the media clock."""
    n = max(len(left), len(right))
    a = np.frombuffer(b"".join(left).ljust(n * 320, b"\0"), dtype="<i2")
    b = np.frombuffer(b"".join(right).ljust(n * 320, b"\0"), dtype="<i2")
    inter = np.empty(2 * n * 160, dtype="<i2")
    inter[0::2] = a[: n * 160]
    inter[1::2] = b[: n * 160]
    private_file(path)  # a customer's voice: 0600 in a 0700 folder
    with open(path, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(TELEPHONY_RATE)
        w.writeframes(inter.tobytes())
