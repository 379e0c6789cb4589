"""Answering-machine detection (AMD) from the far end's audio alone: no speech recognition.

Many Russian mobile numbers divert an unanswered call to a voicemail service that answers
(200 OK) and plays a long greeting («Абонент не может ответить. Оставьте сообщение после
звукового сигнала»), then a beep. The rules follow Asterisk's AMD() (app_amd: initial_silence,
greeting, after_greeting_silence, total_analysis_time, min_word_length, between_words_silence,
maximum_number_of_words), made conservative, because a person taken for a machine is hung up on
while a machine taken for a person only costs a contact:

- **VAD.** A 20 ms frame is voice when its RMS is above `silence_threshold` and `voice_snr_db`
  above the noise floor: the quietest frame of the last `noise_window_s` (minimum statistics:
  steady line noise is absorbed in that time, speech has its pauses and is not). For the first
  window the floor cannot rise above silence_threshold / snr, so a greeting that starts at the
  answer is not taken for noise — unless the audio is steady (10 frames within 3 dB: noise, not
  speech), which lifts that cap at once and forgets the "words" the noise made.
- **Our own echo** is not the far end speaking: the robot talks from the answer on, and a line
  that echoes it would otherwise sound like a long greeting. When the far end's level envelope
  follows ours (correlation at some delay up to 0.5 s), frames no louder than our delayed level
  plus the measured echo gain plus `echo_margin_db` are echo, not voice.
- **Words.** A voice run of at least `min_word_s` is a word; `between_words_silence_s` of quiet
  ends it. An **utterance** is words with pauses shorter than `after_greeting_silence_s`.
- **MACHINE** when the first utterance lasts longer than `greeting_s` (a person says «Алло?»,
  «Да, слушаю» in about a second), or holds `max_words` words; or, at any time in the analysis,
  on a **beep**: one steady tone between `beep_min_hz` and `beep_max_hz` carrying
  `beep_min_share` of the energy for `beep_min_s` (Goertzel powers over a 10 Hz grid, the
  primitives of cuckoo.telephony.dtmf; the band starts above 425 Hz, the Russian call-progress
  tone, so a busy tone after a hang-up is no beep; a DTMF key is two tones, so no beep either).
- **HUMAN** when the first utterance ends (`after_greeting_silence_s` of silence) no longer
  than `human_greeting_s`, or when the far end presses a key. A beep later in the analysis
  still makes it a machine (a voicemail with a very short greeting), unless a key was pressed.
- **UNDECIDED** when the first utterance ends between the two lengths; when nothing is heard
  for `initial_silence_s` (unlike Asterisk, silence is never a machine: a person often listens
  silently, and speech that starts later is someone answering the robot); or when
  `total_analysis_s` passes without a verdict.

**Transcripts.** When a recognizer heard the far end (`note_transcript`), words a person
answering their own phone does not say make it a MACHINE at once (`machine_phrase`): voicemail
(«оставьте сообщение», «абонент не может ответить», «после сигнала», «автоответчик») and the
carriers' voice assistants that now answer for subscribers («голосовой помощник»,
«ассистент»; a Russian carrier put one on all its numbers in January 2026: «Здравствуйте, я
голосовой помощник абонента. Представьтесь и скажите, по какому вопросу Вы звоните»). Their
long fluent greeting is usually a MACHINE by length already; the words catch a short one.
«Представьтесь» or «по какому вопросу» alone are not enough: people say them too. A key
pressed always means a person, before or after any of this.

After MACHINE the detector keeps listening for `voicemail: leave_message`: `ready` turns true
after the beep ends, or after `message_after_silence_s` of silence without one.

Pure logic over int16 frames; time is the amount of audio fed, never the wall clock.
"""

from __future__ import annotations

import enum
import re
from collections import deque

import numpy as np

from cuckoo.config.telephony import AmdSettings
from cuckoo.telephony.dtmf import BLOCK, block_powers, goertzel_basis, tone_share

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms: the decision unit
FRAME_S = FRAME_SAMPLES / RATE
BEEP_STEP_HZ = 10.0  # Goertzel grid: a tone between two points still keeps >97% of its power
ECHO_MAX_LAG = 25  # frames (500 ms): far more than any line's echo delay
ECHO_WINDOW = 75  # frames (1.5 s) the echo path is estimated over
ECHO_MIN_CORR = 0.8
ECHO_EVERY = 5  # re-estimate every 100 ms
MIN_FLOOR = 1.0
STEADY_FRAMES = 10  # 200 ms of level within STEADY_DB: noise (or a tone), not speech
STEADY_DB = 3.0


# Words of a machine's greeting (see the module doc); ё is read as е.
_MACHINE_WORDS = re.compile(
    r"(голосов\w*|виртуальн\w*|цифров\w*|электронн\w*)\s+(помощни\w*|ассистент\w*|секретар\w*)"
    r"|помощник\w*\s+абонент\w*|ассистент\w*"
    r"|оставьте\s+(\w+\s+)?сообщени\w*|после\s+(звукового\s+)?сигнала"
    r"|абонент\w*\s+(сейчас\s+)?не\s+может\s+ответить|автоответчик\w*|голосов\w+\s+почт\w*",
    re.IGNORECASE,
)


def machine_phrase(transcript: str) -> str | None:
    """The words of `transcript` that only a machine's greeting says, or None."""
    m = _MACHINE_WORDS.search(transcript.replace("ё", "е").replace("Ё", "Е"))
    return m.group(0) if m else None


class Verdict(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNDECIDED = "undecided"


def _frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_S))


def _db(rms: float) -> float:
    return 20.0 * float(np.log10(max(rms, MIN_FLOOR)))


class _EchoGate:
    """Tells our own echo from far-end speech by the level envelopes (see the module doc)."""

    def __init__(self, margin_db: float) -> None:
        self.margin_db = margin_db
        self._rx: deque[float] = deque(maxlen=ECHO_WINDOW)
        self._tx: deque[float] = deque(maxlen=ECHO_WINDOW + ECHO_MAX_LAG)
        self._n = 0
        self.lag: int | None = None  # frames; None: no echo seen
        self.gain_db = 0.0
        self.corr = 0.0

    def push(self, rx_db: float, tx_db: float) -> None:
        self._rx.append(rx_db)
        self._tx.append(tx_db)
        self._n += 1
        if self._n % ECHO_EVERY == 0 and len(self._tx) == self._tx.maxlen:
            self._estimate()

    def _estimate(self) -> None:
        rx = np.fromiter(self._rx, dtype=np.float64)
        tx = np.fromiter(self._tx, dtype=np.float64)
        n = len(rx)
        # row L: our level L frames before each far-end frame
        idx = np.arange(n)[None, :] + (ECHO_MAX_LAG - np.arange(ECHO_MAX_LAG + 1))[:, None]
        seg = tx[idx]
        a = rx - rx.mean()
        b = seg - seg.mean(axis=1, keepdims=True)
        den = np.sqrt((a * a).sum() * (b * b).sum(axis=1))
        corr = np.where(den > 1e-9, (b @ a) / np.maximum(den, 1e-9), 0.0)
        best = int(np.argmax(corr))
        self.corr = float(corr[best])
        if self.corr < ECHO_MIN_CORR or float(np.std(tx)) < 3.0:
            self.lag = None
            return
        self.lag = best
        # the echo gain: where we were loud, how much quieter it came back
        loud = seg[best] > seg[best].max() - 20.0
        self.gain_db = float(np.median(rx[loud] - seg[best][loud]))

    def explains(self, rx_db: float) -> bool:
        if self.lag is None:
            return False
        tx = list(self._tx)
        i = len(tx) - 1 - self.lag
        near = tx[max(0, i - 1) : i + 2]  # a frame of slack either way (jitter)
        if not near:
            return False
        return rx_db <= max(near) + self.gain_db + self.margin_db


class AnsweringMachineDetector:
    """Feed the far end's audio from the moment of answer, 20 ms frames of 8 kHz int16 (any
    length works; it is cut into 20 ms frames). `feed()` returns the verdict so far."""

    def __init__(self, settings: AmdSettings | None = None, *, rate: int = RATE) -> None:
        if rate != RATE:
            raise ValueError("the detector works on 8 kHz audio")
        s = settings or AmdSettings()
        self.settings = s
        self.verdict = Verdict.UNDECIDED
        self.reason = ""
        self.decided_at_s: float | None = None  # audio time of the verdict
        self.done = False  # the analysis is over: nothing more to learn (except `ready`)
        self.ready = False  # MACHINE: the machine is recording (after its beep or silence)
        self.ready_reason = ""
        self.beep_hz: float | None = None
        self.words = 0  # in the first utterance
        self.greeting_s = 0.0  # the first utterance's length so far
        self._n = 0  # frames fed
        self._buf = np.zeros(0)
        self._tail = np.zeros(BLOCK)  # the last BLOCK samples, for the tone check
        self._floor_frames = _frames(s.noise_window_s)
        prior = s.silence_threshold / 10 ** (s.voice_snr_db / 20)
        self._prior: float | None = (
            prior  # the floor's cap until the first window is full (module doc)
        )
        self._levels: deque[float] = deque(maxlen=self._floor_frames)
        self._recent_db: deque[float] = deque(maxlen=STEADY_FRAMES)
        self._snr = 10 ** (s.voice_snr_db / 20)
        self._echo = _EchoGate(s.echo_margin_db)
        freqs = np.arange(s.beep_min_hz, s.beep_max_hz + BEEP_STEP_HZ / 2, BEEP_STEP_HZ)
        self._freqs = freqs
        self._basis = goertzel_basis(freqs, BLOCK, RATE)
        self._min_word = _frames(s.min_word_s)
        self._word_gap = _frames(s.between_words_silence_s)
        self._after = _frames(s.after_greeting_silence_s)
        self._run_start: int | None = None  # first frame of the current voice run
        self._in_word = False  # the current run is long enough to be a word
        self._quiet_run = 0
        self._utt_start: int | None = None  # frame of the first utterance's first word
        self._last_word: int | None = None  # last voiced frame of a word
        self._speech_rules = True
        self._tone_hz: float | None = None
        self._tone_run = 0
        self._beep_end: int | None = None  # frame a beep stopped
        self._beep_run = _frames(s.beep_min_s)
        self._key = False

    # ---- input --------------------------------------------------------------------------------
    def feed(self, pcm: bytes, sent_rms: float = 0.0) -> Verdict:
        """`pcm`: what the far end sent; `sent_rms`: the RMS of what we sent in the same 20 ms
        (for the echo gate; 0 when unknown or silent)."""
        x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        buf = np.concatenate((self._buf, x)) if len(self._buf) else x
        i = 0
        while i + FRAME_SAMPLES <= len(buf):
            if self.done and (self.verdict != Verdict.MACHINE or self.ready):
                i = len(buf) // FRAME_SAMPLES * FRAME_SAMPLES
                break
            self._frame(buf[i : i + FRAME_SAMPLES], sent_rms)
            i += FRAME_SAMPLES
        self._buf = buf[i:].copy()
        return self.verdict

    def note_dtmf(self) -> None:
        """The far end pressed a key: machines do not."""
        self._key = True
        if self.verdict != Verdict.HUMAN:
            self._decide(Verdict.HUMAN, "a key was pressed")
        self.done = True

    def note_transcript(self, text: str) -> bool:
        """What a recognizer heard the far end say; True when its words make it a machine
        (module doc). Never after a key: a key means a person."""
        phrase = machine_phrase(text)
        if phrase is None or self._key or self.verdict == Verdict.MACHINE:
            return False
        self._speech_rules = False
        self._decide(Verdict.MACHINE, f"the greeting says «{phrase}»")
        return True

    @property
    def greeting_open(self) -> bool:
        """Still listening to the far end's greeting (no verdict on it yet): what it says now
        is its greeting («Алло?», or a machine's), not an answer to the robot."""
        return self._speech_rules and self.verdict == Verdict.UNDECIDED and not self.done

    @property
    def t(self) -> float:
        """Seconds of audio fed."""
        return self._n * FRAME_S

    # ---- one frame ----------------------------------------------------------------------------
    def _frame(self, x: np.ndarray, sent_rms: float) -> None:
        s = self.settings
        n = self._n
        self._n += 1
        rms = float(np.sqrt(np.dot(x, x) / len(x)))
        rx_db = _db(rms)
        self._levels.append(rms)
        floor = min(self._levels)
        if self._prior is not None:
            self._recent_db.append(rx_db)
            steady = len(self._recent_db) == STEADY_FRAMES and (
                max(self._recent_db) - min(self._recent_db) <= STEADY_DB
            )
            if steady:
                self._prior = None
                self._forget_noise(n - STEADY_FRAMES + 1)
            elif n + 1 >= self._floor_frames:
                self._prior = None
            else:
                floor = min(floor, self._prior)
        floor = max(floor, MIN_FLOOR)
        loud = rms > max(s.silence_threshold, floor * self._snr)
        self._echo.push(rx_db, _db(sent_rms))
        voice = loud and not self._echo.explains(rx_db)
        self._tail = np.concatenate((self._tail[FRAME_SAMPLES:], x))
        tone = self._tone(voice)
        if not self.done and n + 1 >= _frames(s.total_analysis_s):
            self.done = True
            if self.verdict == Verdict.UNDECIDED:
                self.reason = self.reason or f"no decision in {s.total_analysis_s:g} s"
        self._words(n, voice and not tone)  # a beep is no word
        if self.verdict == Verdict.MACHINE and not self.ready:
            self._check_ready(n, tone)

    def _tone(self, voice: bool) -> bool:
        """Track a steady single tone; a long enough one is a beep (MACHINE)."""
        s = self.settings
        hz: float | None = None
        if voice:
            block = self._tail
            p = block_powers(self._basis, block)
            k = int(np.argmax(p))
            if tone_share(float(p[k]), block) >= s.beep_min_share:
                hz = float(self._freqs[k])
        if hz is not None and self._tone_hz is not None and abs(hz - self._tone_hz) <= 20.0:
            self._tone_run += 1
        else:
            if self._tone_run >= self._beep_run:
                self._beep_end = self._n
            self._tone_run = 1 if hz is not None else 0
        self._tone_hz = hz
        if self._tone_run == self._beep_run and hz is not None:
            self.beep_hz = hz
            if not self._key and self.verdict != Verdict.MACHINE and not self.done:
                self._decide(Verdict.MACHINE, f"a beep ({hz:.0f} Hz)")
        return hz is not None

    def _words(self, n: int, voice: bool) -> None:
        s = self.settings
        if voice:
            self._quiet_run = 0
            if self._run_start is None:
                self._run_start = n
            # a word's length is its span: dips shorter than a word gap belong to it
            if n - self._run_start + 1 >= self._min_word:
                if not self._in_word:
                    self._in_word = True
                    if self._speech_rules:
                        if self._utt_start is None:
                            self._utt_start = self._run_start
                        self.words += 1
                self._last_word = n
        else:
            self._quiet_run += 1
            if self._quiet_run >= self._word_gap:
                self._run_start = None
                self._in_word = False
        if self.verdict == Verdict.MACHINE:
            self._speech_rules = False  # a beep decided it already
        if not self._speech_rules:
            return
        if self._utt_start is None:
            if n + 1 >= _frames(s.initial_silence_s):
                self._speech_rules = False
                self.reason = f"no greeting in the first {s.initial_silence_s:g} s"
            return
        assert self._last_word is not None
        self.greeting_s = (self._last_word - self._utt_start + 1) * FRAME_S
        if self.greeting_s > s.greeting_s:
            self._speech_rules = False
            self._decide(Verdict.MACHINE, f"a greeting longer than {s.greeting_s:g} s")
        elif self.words >= s.max_words:
            self._speech_rules = False
            self._decide(Verdict.MACHINE, f"{self.words} words without a pause")
        elif n - self._last_word >= self._after:
            self._speech_rules = False
            if self.greeting_s <= s.human_greeting_s:
                self._decide(
                    Verdict.HUMAN, f"a short greeting ({self.greeting_s:.1f} s), then silence"
                )
            else:
                self.reason = f"a {self.greeting_s:.1f} s greeting: neither short nor long"

    def _forget_noise(self, since: int) -> None:
        """Steady noise at the start was taken for voice before the floor knew it: drop the
        utterance it began."""
        if self._utt_start is not None and self._utt_start >= since - 1:
            self._utt_start = self._last_word = None
            self.words = 0
            self.greeting_s = 0.0
        self._run_start = None
        self._in_word = False

    def _check_ready(self, n: int, tone: bool) -> None:
        s = self.settings
        if tone:
            return
        if self._beep_end is not None and n - self._beep_end >= _frames(0.2):
            self.ready = True
            self.ready_reason = "after the beep"
            return
        last = self._last_word if self._last_word is not None else -1
        if n - last >= _frames(s.message_after_silence_s):
            self.ready = True
            self.ready_reason = f"after {s.message_after_silence_s:g} s of silence"

    def _decide(self, verdict: Verdict, reason: str) -> None:
        if verdict == Verdict.MACHINE and self.verdict == Verdict.HUMAN:
            reason += " after a short greeting"
        self.verdict = verdict
        self.reason = reason
        self.decided_at_s = self.t
        if verdict == Verdict.MACHINE:
            self.ready = False
