"""A simulated customer phone: a pjsua2 user agent that behaves per a script.

Script (JSON or YAML): a `default` behaviour and optional per-user ones, picked by the user
part of the called URI (sip:alice@host → "alice"), so one sim-phone plays several customers:

    default: {action: answer, answer_after_s: 0.5}
    users:
      alice: {action: answer, answer_after_s: 1, play: greeting.wav,
              dtmf: [{at_s: 2.0, keys: "1", method: rfc2833}], record: "/tmp/alice-{n}.wav"}
      bob:   {action: busy}
      carol: {action: human, say: "Алло?", dtmf: [{at_s: 3.0, keys: "1"}]}
      dave:  {action: voicemail, beep_hz: 1000, record: "/tmp/dave-{n}.wav"}

`human` answers, says `say` (espeak-ng, default «Алло?») at `play_at_s`, then presses its keys.
`voicemail` behaves like a mobile operator's voicemail service: it answers, plays a long Russian
greeting (`greeting` text through espeak-ng, or the `play` WAV), then after `beep_gap_s` a beep
(`beep_hz`, `beep_s`; beep_s 0: none), then stays silent and records; its `ended` event tells
when the caller's audio came after the beep (`loud_after_beep_s`).

Every event is written as one JSON line to `events` (a file or stdout) with a monotonic
timestamp `t` (CLOCK_MONOTONIC is system-wide, so tests and benchmarks can compare it with
their own clock).

`early` (any action): a 183 with SDP first, playing a SIT, an operator's announcement or
ringback for `early_s` (the network refusing the call, or ringing), then the action.

A REFER (blind transfer) on a call is accepted: the phone calls the target itself and reports
`transfer` (target), then `transfer_answered` or `transfer_ended` (sip_code) for that new call.

`silent` takes the INVITE and sends nothing back (no 180, no answer: only the stack's 100
Trying) until `hangup_after_s` after it, then 480 (none: never). As a REFER's target it makes a
transfer that hangs: the transferee accepts the REFER (202 and pjsua's mandatory NOTIFY «100
Trying») and then sends no NOTIFY at all until that 480. (pjsua2 itself cannot accept a REFER
without placing the call: an accepted REFER always dials the Refer-To URI, and a call it cannot
place is reported at once with a final NOTIFY 500.)
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from cuckoo.domain import JsonObject
from cuckoo.line.audio import TELEPHONY_RATE, Audio
from cuckoo.telephony.dtmf import tones_pcm
from cuckoo.telephony.early import SitVariant, sit_tones
from cuckoo.telephony.engine import CallHandle, Engine, EngineConfig

log = logging.getLogger(__name__)

Speak = Callable[[str], Audio]  # text → speech (the sim phone has no voice of its own)

ACTIONS = ("answer", "busy", "reject", "never", "code", "human", "voicemail", "silent")
VOICEMAIL_GREETING = (
    "Здравствуйте. Абонент, которому вы звоните, сейчас не может ответить. "
    "Пожалуйста, оставьте сообщение после звукового сигнала."
)
LOUD_RMS = 300.0  # a received frame this loud counts as robot audio
EARLY_KINDS = ("sit", "announcement", "ringback")


@dataclass(frozen=True)
class DtmfPress:
    at_s: float  # after answer
    keys: str
    method: str = "rfc2833"  # rfc2833 | info | inband


@dataclass(frozen=True)
class Behavior:
    action: str = "answer"
    answer_after_s: float = 0.0  # rings (180) this long first
    code: int = 486  # for action "code"
    q850: int | None = None  # adds "Reason: Q.850;cause=N" to the final answer
    hangup_after_s: float | None = None  # after answer
    play: str | None = None  # WAV said after answer
    play_at_s: float = 0.0
    dtmf: tuple[DtmfPress, ...] = ()
    dtmf_after_quiet_s: float = 0.0  # press a key only once the robot was quiet this long
    record: str | None = None  # WAV of what it heard; "{user}" and "{n}" are filled in
    say: str | None = None  # text said after answer (espeak-ng), like `play`; human: «Алло?»
    greeting: str | None = None  # voicemail: its greeting text (default VOICEMAIL_GREETING)
    beep_hz: float = 1000.0  # voicemail: the beep after the greeting
    beep_s: float = 0.5  # 0: no beep
    beep_gap_s: float = 0.4  # greeting end → beep
    # Early media before the action: a 183 with SDP playing "sit" (`early_sit`: a
    # cuckoo.telephony.early.SitVariant name, e.g. vacant_code, itu), "announcement"
    # (`early_text` through the voice) or "ringback" (425 Hz, 1 s on / 4 s off), looped for
    # `early_s`; then the action goes on (a final code, or the answer; "never": plays forever).
    early: str | None = None
    early_sit: str = "vacant_code"
    early_text: str = "Абонент недоступен. Попробуйте позвонить позднее."
    early_s: float = 3.0

    @classmethod
    def from_dict(cls, d: JsonObject, where: str = "script") -> Behavior:
        d = dict(d)
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        if d.get("action", "answer") not in ACTIONS:
            raise ValueError(f"{where}: action must be one of {ACTIONS}, not {d['action']!r}")
        presses = tuple(
            DtmfPress(float(p["at_s"]), str(p["keys"]), str(p.get("method", "rfc2833")))
            for p in d.pop("dtmf", []) or []
        )
        for p in presses:
            if p.method not in ("rfc2833", "info", "inband"):
                raise ValueError(f"{where}: dtmf method {p.method!r} is not rfc2833/info/inband")
        if d.get("early") not in (None, *EARLY_KINDS):
            raise ValueError(f"{where}: early must be one of {EARLY_KINDS}, not {d['early']!r}")
        if d.get("early_sit", "vacant_code").upper() not in SitVariant.__members__:
            raise ValueError(f"{where}: early_sit {d['early_sit']!r} is not a SIT variant")
        return cls(dtmf=presses, **d)


@dataclass
class Script:
    default: Behavior = field(default_factory=Behavior)
    users: dict[str, Behavior] = field(default_factory=dict)

    def for_user(self, user: str) -> Behavior:
        return self.users.get(user, self.default)

    @classmethod
    def from_dict(cls, d: JsonObject, where: str = "script") -> Script:
        unknown = set(d) - {"default", "users"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)} (want default, users)")
        return cls(
            Behavior.from_dict(d.get("default") or {}, f"{where}: default"),
            {
                str(k): Behavior.from_dict(v or {}, f"{where}: users.{k}")
                for k, v in (d.get("users") or {}).items()
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> Script:
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        return cls.from_dict(data, str(path))


def user_of(uri: str) -> str:
    m = re.search(r"sips?:([^@;>]+)@", uri)
    return m.group(1) if m else ""


class SimPhone:
    def __init__(
        self,
        script: Script,
        *,
        port: int = 0,
        events: IO[str] | None = None,
        transport: str = "udp",
        tls_cert: str = "",
        tls_key: str = "",
        speak: Speak | None = None,
    ) -> None:
        self.script = script
        self.speak = speak
        cfg = EngineConfig(
            sip_port=port,
            log_level=0,
            transport=transport,
            tls_cert_file=tls_cert,
            tls_key_file=tls_key,
        )
        self.engine = Engine(cfg, on_incoming=self._incoming, on_transferred=self._transferred)
        self._events = events or sys.stdout
        self._lock = threading.Lock()
        self._n = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> SimPhone:
        self.engine.start()
        self.emit("ready", port=self.engine.local_port)
        return self

    def stop(self) -> None:
        self.engine.stop()

    @property
    def port(self) -> int:
        return self.engine.local_port

    def emit(self, event: str, **kw: Any) -> None:
        line = json.dumps({"event": event, "t": time.monotonic(), **kw})
        with self._lock:
            self._events.write(line + "\n")
            self._events.flush()

    def _incoming(self, h: CallHandle) -> None:
        # Runs on the engine's owner thread: never block here.
        with self._lock:
            self._n += 1
            n = self._n
        user = user_of(h.local_uri)
        behavior = self.script.for_user(user)
        h.queue_rx = False  # it only records and watches (tap), never reads the queue
        t = threading.Thread(target=self._run_call, args=(h, user, n, behavior), daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _transferred(self, h: CallHandle) -> None:
        # Owner thread, before the new INVITE goes out: never block here.
        old = h.transferred_from
        user = user_of(old.local_uri) if old is not None else ""
        h.queue_rx = False
        t = threading.Thread(target=self._run_transfer, args=(h, user), daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _run_transfer(self, h: CallHandle, user: str) -> None:
        self.emit("transfer", user=user, target=h.remote_uri)
        while not (h.confirmed.wait(0.05) or h.disconnected.is_set()):
            pass
        if h.confirmed.is_set():
            self.emit("transfer_answered", user=user, target=h.remote_uri)
        h.disconnected.wait()
        self.emit(
            "transfer_ended",
            user=user,
            target=h.remote_uri,
            answered=h.confirmed.is_set(),
            sip_code=h.sip_code,
        )

    def _run_call(self, h: CallHandle, user: str, n: int, b: Behavior) -> None:
        self.emit("incoming", user=user, n=n, remote=h.remote_uri)
        try:
            self._behave(h, user, n, b)
        except Exception as e:
            log.exception("sim-phone call %s failed", n)
            self.emit("error", user=user, n=n, error=str(e))
            h.hangup()

    def _final(self, h: CallHandle, code: int, b: Behavior) -> None:
        if b.q850 is not None:
            self.engine.submit(lambda: _hangup_with_reason(h, code, b.q850 or 0))
        else:
            h.answer(code)

    def _behave(self, h: CallHandle, user: str, n: int, b: Behavior) -> None:
        if b.early is not None and not self._early_media(h, user, n, b):
            return
        if b.action == "busy":
            self._final(h, 486, b)
            self.emit("rejected", user=user, n=n, code=486)
            return
        if b.action == "reject":
            self._final(h, 603, b)
            self.emit("rejected", user=user, n=n, code=603)
            return
        if b.action == "code":
            self._final(h, b.code, b)
            self.emit("rejected", user=user, n=n, code=b.code)
            return
        if b.action == "silent":
            self.emit("silent", user=user, n=n)
            if not h.disconnected.wait(b.hangup_after_s):
                h.answer(480)
                h.disconnected.wait(5.0)
            self.emit("ended", user=user, n=n, answered=False, sip_code=h.sip_code)
            return
        if b.early is None:
            h.answer(180)
        speech, beep_at = self._speech(b)  # rendered while it rings
        if b.action == "never":
            h.disconnected.wait()
            self.emit("ended", user=user, n=n, answered=False, sip_code=h.sip_code)
            return
        if h.disconnected.wait(b.answer_after_s):
            self.emit("ended", user=user, n=n, answered=False, sip_code=h.sip_code)
            return
        if b.record:
            h.start_recording()
        h.answer(200)
        if not h.media_ready.wait(5.0):
            self.emit("error", user=user, n=n, error="no media after answer")
        t_ans = time.monotonic()
        self.emit("answered", user=user, n=n)
        watch = _RxWatch(h)
        actions: list[tuple[float, str, Any]] = []
        if speech is not None:
            actions.append((b.play_at_s, "speak", speech))
        elif b.play:
            actions.append((b.play_at_s, "play", b.play))
        for p in b.dtmf:
            actions.append((p.at_s, "dtmf", p))
        if b.hangup_after_s is not None:
            actions.append((b.hangup_after_s, "hangup", None))
        actions.sort(key=lambda a: a[0])
        for at, kind, arg in actions:
            while True:
                wait = t_ans + at - time.monotonic()
                if kind == "dtmf" and b.dtmf_after_quiet_s > 0:
                    wait = max(wait, watch.quiet_wait(b.dtmf_after_quiet_s))
                if wait <= 0 or h.disconnected.wait(min(wait, 0.05)):
                    break
            if h.disconnected.is_set():
                break
            if kind == "play":
                audio = Audio.read_wav(arg).resample(TELEPHONY_RATE)
                h.player.load(audio.pcm)
                self.emit("play", user=user, n=n, file=arg)
            elif kind == "speak":
                h.player.load(arg)
                self.emit("play", user=user, n=n, file=None, duration_s=len(arg) / 16000)
                if beep_at is not None:
                    watch.beep_end = time.monotonic() + beep_at + b.beep_s
            elif kind == "dtmf":
                press: DtmfPress = arg
                watch.mark_press()
                if press.method == "inband":
                    h.player.load(tones_pcm(press.keys))
                else:
                    h.send_dtmf(press.keys, press.method)
                self.emit("dtmf", user=user, n=n, keys=press.keys, method=press.method)
            elif kind == "hangup":
                self.emit("hangup", user=user, n=n)
                h.hangup()
        h.disconnected.wait()
        rec_path = None
        if b.record and h.record_rx is not None:
            rec_path = b.record.format(user=user, n=n)
            write_mono_wav(rec_path, h.record_rx)
        self.emit(
            "ended",
            user=user,
            n=n,
            answered=True,
            remote_hangup=h.remote_hangup,
            recording=rec_path,
            first_audio_s=None if watch.first_loud is None else watch.first_loud - t_ans,
            dtmf_reaction_s=watch.reactions,
            duration_s=time.monotonic() - t_ans,
            loud_after_beep_s=watch.loud_after_beep(),
        )

    def _early_media(self, h: CallHandle, user: str, n: int, b: Behavior) -> bool:
        """183 with SDP, then the early audio looped for `early_s` (forever for "never").
        False when the call ended meanwhile (the caller's CANCEL)."""
        if b.early == "sit":
            tones = sit_tones(SitVariant[b.early_sit.upper()])
            pcm = b"".join(_tone_pcm(hz, sec) for hz, sec in tones) + _silence_pcm(1.0)
        elif b.early == "ringback":
            pcm = _tone_pcm(425.0, 1.0, level=0.1) + _silence_pcm(4.0)
        else:
            pcm = self._speak(b.early_text).pcm + _silence_pcm(1.0)
        h.answer(183)
        self.emit("early", user=user, n=n, kind=b.early)
        limit = None if b.action == "never" else time.monotonic() + b.early_s
        while limit is None or time.monotonic() < limit:
            if not h.player.playing:
                h.player.load(pcm)
            if h.disconnected.wait(0.02):
                self.emit("ended", user=user, n=n, answered=False, sip_code=h.sip_code)
                return False
        h.player.stop()
        return True

    def _speech(self, b: Behavior) -> tuple[bytes | None, float | None]:
        """PCM a `human` or `voicemail` phone says after answer (or `say` on any), and when its
        beep starts within it (seconds), if it has one."""
        text = b.say
        if b.action == "human" and text is None and not b.play:
            text = "Алло?"
        if b.action == "voicemail":
            if b.play:
                greeting = Audio.read_wav(b.play).resample(TELEPHONY_RATE)
            else:
                greeting = self._speak(b.greeting or VOICEMAIL_GREETING)
            pcm = greeting.pcm
            if b.beep_s <= 0:
                return pcm, None
            gap = bytes(int(b.beep_gap_s * TELEPHONY_RATE) * 2)
            beep_at = (len(pcm) + len(gap)) / 2 / TELEPHONY_RATE
            return pcm + gap + beep_pcm(b.beep_hz, b.beep_s), beep_at
        if text is None:
            return None, None
        return self._speak(text).pcm, None

    def _speak(self, text: str) -> Audio:
        if self.speak is None:
            raise ValueError(f"this phone has no voice to say {text!r}")
        return self.speak(text).resample(TELEPHONY_RATE)


def beep_pcm(hz: float, seconds: float, *, level: float = 0.3) -> bytes:
    """A voicemail beep: one steady tone with 5 ms edges (int16 LE)."""
    t = np.arange(int(seconds * TELEPHONY_RATE)) / TELEPHONY_RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
    x = level * np.sin(2 * np.pi * hz * t) * ramp
    return np.round(x * 32767).astype("<i2").tobytes()


def _tone_pcm(hz: float, seconds: float, *, level: float = 0.2) -> bytes:
    """A network's tone: one steady frequency with 3 ms edges (int16 LE)."""
    t = np.arange(round(seconds * TELEPHONY_RATE)) / TELEPHONY_RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.003)
    x = level * np.sin(2 * np.pi * hz * t) * ramp
    return np.round(x * 32767).astype("<i2").tobytes()


def _silence_pcm(seconds: float) -> bytes:
    return bytes(int(seconds * TELEPHONY_RATE) * 2)


def _rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2")
    return float(np.sqrt(np.dot(x, x.astype(np.float64)) / max(1, len(x))))


class _RxWatch:
    """Watches what the robot sends: when its audio first appears, how fast it reacts to a key."""

    def __init__(self, h: CallHandle) -> None:
        self.first_loud: float | None = None
        self.last_loud: float = 0.0
        self.reactions: list[float] = []
        self._press_at: float | None = None
        self.beep_end: float | None = None  # monotonic: when its own beep ends (voicemail)
        self._loud_after_beep: float | None = None
        h.tap = self._on_frame

    def _on_frame(self, pcm: bytes) -> None:
        # Runs on the media clock thread for every frame: keep it cheap.
        if _rms(pcm) < LOUD_RMS:
            return
        now = time.monotonic()
        self.last_loud = now
        if self.first_loud is None:
            self.first_loud = now
        if self.beep_end is not None and self._loud_after_beep is None and now > self.beep_end:
            self._loud_after_beep = now
        if self._press_at is not None:
            self.reactions.append(now - self._press_at)
            self._press_at = None

    def quiet_wait(self, quiet_s: float) -> float:
        """Seconds until the robot has been quiet for `quiet_s` (0 if it already has)."""
        if self.first_loud is None:
            return 0.1  # it has not spoken yet: wait for it
        return max(0.0, self.last_loud + quiet_s - time.monotonic())

    def loud_after_beep(self) -> float | None:
        """Seconds from the end of its beep to the caller's first audio after it."""
        if self.beep_end is None or self._loud_after_beep is None:
            return None
        return self._loud_after_beep - self.beep_end

    def mark_press(self) -> None:
        self._press_at = time.monotonic()


def _hangup_with_reason(h: CallHandle, code: int, q850: int) -> None:
    """Owner thread: a final answer carrying a Reason header."""
    import pjsua2 as pj

    call = h._pjcall
    if call is None:
        return
    prm = pj.CallOpParam(True)
    prm.statusCode = code
    hdr = pj.SipHeader()
    hdr.hName = "Reason"
    hdr.hValue = f"Q.850;cause={q850}"
    prm.txOption.headers.append(hdr)
    call.hangup(prm)


def write_mono_wav(path: str | Path, frames: list[bytes]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(TELEPHONY_RATE)
        w.writeframes(b"".join(frames))


def run_forever(
    script: Script,
    port: int,
    events: IO[str] | None = None,
    speak: Speak | None = None,
    **engine: str,
) -> int:
    """`cuckoo sim-phone`: serve until SIGTERM / Ctrl-C. `speak` voices what the script says;
    `engine`: transport, tls_cert, tls_key."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    phone = SimPhone(script, port=port, events=events, speak=speak, **engine).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    phone.stop()
    phone.emit("stopped")
    return 0
