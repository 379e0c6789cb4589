"""A labelled set of synthesized telephone audio for the early-media detector
(cuckoo.telephony.early) and the after-answer answering-machine detector (cuckoo.telephony.amd).

Every sample carries its labels, written before any threshold was tuned:
- `early`: what the early-media detector should say — "sit" (and `sit`: the variant),
  "ringback", "announcement", "none" (silence, noise, music, a beep: not a verdict), or None
  (the sample is not early media);
- `amd`: what the after-answer detector should say — "human", "machine", "undecided" (nothing
  to judge: silence, noise), or None (not something that answers a call).

`split`: "tune" or "blind" (about 30%, fixed by a hash of the sample's id, plus everything in
the voices and texts kept out of tuning: RHVoice's irina and elena, BLIND_* texts). Tune on
the tune part; score the blind part once, at the end (benchmarks/early_media.py --blind).

The audio: SITs at every Telcordia code and ITU's, ringback (425 Hz 1 s / 4 s and its cousins),
operator announcements and carrier voice assistants from espeak-ng, Festival (festvox-ru) and
RHVoice where installed, short human answers, voicemail greetings, beeps, line noise, music
(a ringback melody), each with line noise and/or a G.711 (A-law, µ-law) round trip.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from amd_samples import (
    HUMAN_TEXTS,
    RATE,
    VOICEMAIL_TEXTS,
    at_level,
    beep,
    espeak,
    festival,
    have_espeak,
    have_festival,
    join,
    noisy,
    silence,
    trim,
)

from cuckoo.telephony.early import SitVariant

ANNOUNCEMENTS = {
    "nedostupen": "Абонент недоступен. Попробуйте позвонить позднее.",
    "vyklyuchen": "Аппарат абонента выключен или находится вне зоны действия сети.",
    "ne_sushchestvuet": "Номер, который вы набрали, не существует.",
    "nepravilno": "Неправильно набран номер. Проверьте номер и наберите снова.",
    "ne_otvechaet": "Абонент не отвечает. Попробуйте позвонить позднее.",
}
BLIND_ANNOUNCEMENTS = {
    "zablokirovan": "Вызываемый вами абонент временно заблокирован.",
    "vne_seti": "Абонент находится вне зоны действия сети. Пожалуйста, перезвоните позже.",
}
ASSISTANTS = {
    "pomoshnik": (
        "Здравствуйте, я голосовой помощник абонента. "
        "Представьтесь и скажите, по какому вопросу вы звоните."
    ),
    "assistent": (
        "Добрый день! Это виртуальный ассистент. Абонент сейчас не может ответить. "
        "Расскажите, что ему передать."
    ),
}
BLIND_ASSISTANTS = {
    "sekretar": (
        "Алло, здравствуйте! Я цифровой секретарь. Скажите, как вас зовут и зачем звоните, "
        "я всё передам."
    ),
}
BLIND_HUMAN = {"allo_kto": "Алло, кто это?", "slushayu_vas": "Слушаю вас."}
# The holdout: texts, voices and lines nobody looked at while tuning (a diagnostic printout
# showed the blind announcements' features once, so the blind part is no longer blind for
# announcements; this part is).
HOLDOUT_ANNOUNCEMENTS = {
    "ne_obsluzhivaetsya": "Набранный вами номер не обслуживается.",
    "nedostupen_long": (
        "Телефон абонента выключен или находится вне зоны действия сети. "
        "Вы можете отправить сообщение."
    ),
}
HOLDOUT_HUMAN = {"da_da": "Да-да?", "allo_allo": "Алло! Алло!"}
HOLDOUT_ASSISTANTS = {
    "pomoshnik2": (
        "Здравствуйте! Абонент не может сейчас ответить, с вами говорит его голосовой "
        "помощник. Скажите, пожалуйста, кто вы и по какому вопросу."
    ),
}
HOLDOUT_VOICEMAIL = {
    "pochta": "Вы позвонили в голосовую почту. Говорите после сигнала.",
}
HOLDOUT_VOICES = ("espeak170", "festival0.95", "rhvoice-irina", "rhvoice-anna")
HOLDOUT_LINES = ((-42.0, "alaw", 21), (None, "ulaw", 22), (-48.0, None, 23), (-37.0, "alaw", 24))

# SIT variant → (segment 1 Hz, ms), (segment 2 Hz, ms); the third is 1776.7 Hz, 380 ms
SIT_SEGMENTS: dict[SitVariant, tuple[tuple[float, float], tuple[float, float]]] = {
    SitVariant.INTERCEPT: ((913.8, 274), (1370.6, 274)),
    SitVariant.VACANT_CODE: ((985.2, 380), (1370.6, 274)),
    SitVariant.NO_CIRCUIT: ((985.2, 380), (1428.5, 380)),
    SitVariant.NO_CIRCUIT_LOCAL: ((913.8, 380), (1370.6, 380)),
    SitVariant.REORDER: ((913.8, 274), (1428.5, 380)),
    SitVariant.REORDER_LOCAL: ((985.2, 274), (1370.6, 380)),
    SitVariant.INEFFECTIVE: ((913.8, 380), (1428.5, 274)),
    SitVariant.RESERVED: ((985.2, 274), (1428.5, 274)),
}


# ---- voices -----------------------------------------------------------------------------------
def have_rhvoice(voice: str = "anna") -> bool:
    try:
        from cuckoo.speech.tts.rhvoice import rhvoice_available  # ctypes probe: cheap
    except ImportError:
        return False
    return rhvoice_available(voice) is None


def rhvoice(text: str, voice: str) -> np.ndarray:
    # RHVoice loads its native library on first use: only when a sample needs it.
    from cuckoo.speech.tts.rhvoice import RHVoiceEngine

    audio = RHVoiceEngine(voice=voice).render(text, rate=RATE).resample(RATE)
    return audio.samples().astype(np.float64)


@functools.cache
def speak(text: str, voice: str) -> np.ndarray:
    """`voice`: espeak150, espeak190, festival1.0, festival0.85, rhvoice-NAME."""
    if voice.startswith("espeak"):
        raw = espeak(text, int(voice[6:]))
    elif voice.startswith("festival"):
        raw = festival(text, float(voice[8:]))
    else:
        raw = rhvoice(text, voice.split("-", 1)[1])
    return trim(raw)


TUNE_VOICES = ("espeak150", "espeak190", "festival1.0", "festival0.85", "rhvoice-anna")
BLIND_VOICES = ("rhvoice-aleksandr", "rhvoice-irina", "rhvoice-elena")


def voice_available(voice: str) -> bool:
    if voice.startswith("espeak"):
        return have_espeak()
    if voice.startswith("festival"):
        return have_festival()
    return have_rhvoice(voice.split("-", 1)[1])


# ---- tones, music, the line ------------------------------------------------------------------
def tone(hz: float | tuple[float, ...], seconds: float, dbfs: float = -15.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    freqs = (hz,) if isinstance(hz, float | int) else hz
    x = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.003)
    return 32768 * 10 ** (dbfs / 20) * np.sqrt(2) * np.asarray(x) * ramp


def sit(variant: SitVariant, dbfs: float = -15.0, drift: float = 1.0) -> np.ndarray:
    """One SIT (three segments back to back); `drift` scales every frequency (a generator
    off by a little)."""
    if variant == SitVariant.ITU:
        segs = [(950.0, 330.0), (1400.0, 330.0), (1800.0, 330.0)]
    else:
        first, second = SIT_SEGMENTS[variant]
        segs = [first, second, (1776.7, 380.0)]
    return join(*(tone(hz * drift, ms / 1000, dbfs) for hz, ms in segs))


def ringback(
    hz: float | tuple[float, ...] = 425.0,
    on_s: float = 1.0,
    off_s: float = 4.0,
    cycles: int = 2,
    dbfs: float = -18.0,
) -> np.ndarray:
    return join(*([tone(hz, on_s, dbfs), silence(off_s)] * cycles))


def music(seconds: float = 8.0, seed: int = 0, dbfs: float = -20.0) -> np.ndarray:
    """A ringback melody: notes with harmonics and an envelope over a held chord."""
    rng = np.random.default_rng(seed)
    scale = 261.63 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
    out = np.zeros(int(seconds * RATE))
    pos = 0
    while pos < len(out):
        dur = int(rng.choice([0.2, 0.25, 0.4, 0.5]) * RATE)
        f = float(rng.choice(scale)) * float(rng.choice([1, 2]))
        t = np.arange(dur) / RATE
        note = sum(a * np.sin(2 * np.pi * f * k * t) for k, a in ((1, 1.0), (2, 0.5), (3, 0.3)))
        env = np.minimum(1.0, t / 0.02) * np.exp(-t * 3.0)
        seg = np.asarray(note) * env
        out[pos : pos + dur] += seg[: len(out) - pos]
        pos += dur
    t = np.arange(len(out)) / RATE
    chord = sum(0.25 * np.sin(2 * np.pi * f * t) for f in (130.8, 164.8, 196.0))
    return at_level(out + np.asarray(chord), dbfs)


def _mu_law(x: np.ndarray) -> np.ndarray:
    """A G.711 µ-law encode + decode (the quantization a PCMU leg adds)."""
    v = np.clip(np.round(x), -32768, 32767).astype(np.int64)
    sign = v < 0
    mag = np.minimum(np.abs(v), 32635) + 0x84
    exp = np.floor(np.log2(mag)).astype(np.int64) - 7
    mant = (mag >> (exp + 3)) & 0x0F
    out = (((mant << 3) + 0x84) << exp) - 0x84
    return np.where(sign, -out, out).astype(np.float64)


def _a_law(x: np.ndarray) -> np.ndarray:
    """A G.711 A-law encode + decode (PCMA)."""
    v = np.clip(np.round(x), -32768, 32767).astype(np.int64)
    sign = v < 0
    mag = np.minimum(np.abs(v), 32767) >> 3  # 12-bit magnitude
    exp = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int64) - 4)
    mant = np.where(exp == 0, mag >> 1, (mag >> np.maximum(exp, 1)) & 0x0F)
    dec = np.where(exp == 0, (mant << 1) + 1, ((mant << 1) + 33) << np.maximum(exp - 1, 0))
    out = dec << 3
    return np.where(sign, -out, out).astype(np.float64)


def g711(x: np.ndarray, law: str) -> np.ndarray:
    return _a_law(x) if law == "alaw" else _mu_law(x)


@dataclass(frozen=True)
class Line:
    """What the line does to a sample: noise (dBFS, None: none), a G.711 round trip."""

    noise_dbfs: float | None = None
    law: str | None = None  # "alaw" | "ulaw"
    seed: int = 1

    def apply(self, x: np.ndarray) -> np.ndarray:
        if self.noise_dbfs is not None:
            x = noisy(x, self.noise_dbfs, self.seed)
        if self.law is not None:
            x = g711(x, self.law)
        return x

    @property
    def tag(self) -> str:
        parts = [f"n{-self.noise_dbfs:g}" if self.noise_dbfs is not None else "clean"]
        if self.law:
            parts.append(self.law)
        return "-".join(parts)


LINES = (
    Line(),
    Line(-50.0, "alaw", 2),
    Line(-40.0, "ulaw", 3),
    Line(-35.0, None, 4),
)


# ---- the labelled set -------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    id: str
    early: str | None  # sit | ringback | announcement | none | None (not early media)
    amd: str | None  # human | machine | undecided | None (nothing that answers)
    make: Callable[[], np.ndarray]
    sit: SitVariant | None = None
    invalid: bool | None = None  # the transcript says the number does not exist
    needs: tuple[str, ...] = ()  # voices it is rendered with
    blind_only: bool = False  # held out of tuning whatever the hash says
    holdout: bool = False  # the holdout part (see HOLDOUT_ANNOUNCEMENTS)

    @property
    def split(self) -> str:
        if self.holdout:
            return "holdout"
        if self.blind_only:
            return "blind"
        h = int(hashlib.sha1(self.id.encode()).hexdigest()[:8], 16)
        return "blind" if h % 10 < 3 else "tune"

    def audio(self) -> np.ndarray:
        return self.make()

    @property
    def available(self) -> bool:
        return all(voice_available(v) for v in self.needs)


def _said(text: str, voice: str, dbfs: float = -20.0) -> Callable[[], np.ndarray]:
    return lambda: at_level(speak(text, voice), dbfs)


def samples() -> list[Sample]:
    out: list[Sample] = []
    # SIT: every variant on every line, at two levels, some generators a little off
    for variant in [*SIT_SEGMENTS, SitVariant.ITU]:
        for i, line in enumerate(LINES):
            dbfs = -15.0 if i % 2 == 0 else -24.0
            drift = (1.0, 1.008, 0.993, 1.0)[i]

            def make_sit(
                v: SitVariant = variant, ln: Line = line, d: float = dbfs, k: float = drift
            ) -> np.ndarray:
                one = sit(v, d, k)
                return ln.apply(join(silence(0.3), one, silence(1.0), one, silence(1.0)))

            out.append(
                Sample(f"sit-{variant.name.lower()}-{line.tag}", "sit", None, make_sit, variant)
            )
    # SIT, then the announcement that usually follows it
    for key, voice, variant in (
        ("nepravilno", "espeak150", SitVariant.ITU),
        ("ne_sushchestvuet", "festival1.0", SitVariant.VACANT_CODE),
        ("nedostupen", "espeak190", SitVariant.NO_CIRCUIT),
    ):
        text = ANNOUNCEMENTS[key]

        def make_sit_ann(v: SitVariant = variant, t: str = text, vo: str = voice) -> np.ndarray:
            return Line(-50.0, "alaw", 5).apply(
                join(silence(0.2), sit(v), silence(0.3), at_level(speak(t, vo), -20), silence(1))
            )

        out.append(
            Sample(f"sit-then-{key}-{voice}", "sit", None, make_sit_ann, variant, needs=(voice,))
        )
    # ringback and its cousins
    for name, hz, on_s, off_s in (
        ("425-1-4", 425.0, 1.0, 4.0),
        ("425-0.8-3.2", 425.0, 0.8, 3.2),
        ("450-1-4", 450.0, 1.0, 4.0),
        ("400-1.5-4", 400.0, 1.5, 4.0),
        ("400+450-1-2", (400.0, 450.0), 1.0, 2.0),
    ):
        for line in (LINES[0], LINES[2]):

            def make_rb(
                h: float | tuple[float, ...] = hz,
                a: float = on_s,
                b: float = off_s,
                ln: Line = line,
            ) -> np.ndarray:
                return ln.apply(join(silence(0.5), ringback(h, a, b)))

            out.append(Sample(f"ringback-{name}-{line.tag}", "ringback", None, make_rb))
    # operator announcements, alone and after ringback
    all_ann = {**ANNOUNCEMENTS, **BLIND_ANNOUNCEMENTS}
    for key, text in all_ann.items():
        invalid = key in ("ne_sushchestvuet", "nepravilno")
        for j, voice in enumerate(TUNE_VOICES + BLIND_VOICES):
            line = LINES[j % len(LINES)]

            def make_ann(t: str = text, vo: str = voice, ln: Line = line) -> np.ndarray:
                return ln.apply(join(silence(0.4), at_level(speak(t, vo), -20), silence(1.5)))

            out.append(
                Sample(
                    f"announcement-{key}-{voice}-{line.tag}",
                    "announcement",
                    None,
                    make_ann,
                    invalid=invalid,
                    needs=(voice,),
                    blind_only=key in BLIND_ANNOUNCEMENTS or voice in BLIND_VOICES,
                )
            )
    for key, voice in (("nedostupen", "festival0.85"), ("vyklyuchen", "espeak150")):
        text = ANNOUNCEMENTS[key]

        def make_rb_ann(t: str = text, vo: str = voice) -> np.ndarray:
            return Line(-45.0, "ulaw", 6).apply(
                join(ringback(cycles=1), at_level(speak(t, vo), -20), silence(1))
            )

        out.append(
            Sample(
                f"ringback-then-{key}-{voice}", "announcement", None, make_rb_ann, needs=(voice,)
            )
        )
    # neither: silence, noise, music, a beep
    for seconds in (4.0, 8.0):
        out.append(
            Sample(f"silence-{seconds:g}s", "none", "undecided", lambda s=seconds: silence(s))
        )
    for seed, level in ((11, -55.0), (12, -45.0), (13, -38.0)):
        out.append(
            Sample(
                f"noise-{-level:g}dB",
                "none",
                "undecided",
                lambda lv=level, sd=seed: noisy(silence(8.0), lv, sd),
            )
        )
    for seed in range(4):
        out.append(
            Sample(
                f"music-{seed}",
                "none",
                None,
                lambda sd=seed: Line(-50.0, "alaw", sd).apply(music(10.0, sd)),
            )
        )
    for hz in (1000.0, 1400.0):
        out.append(
            Sample(
                f"beep-{hz:g}",
                "none",
                "machine",
                lambda h=hz: join(silence(0.5), beep(h, 0.5), silence(3.0)),
            )
        )
    # after the answer: people, voicemail, carrier assistants
    humans = {**HUMAN_TEXTS, **BLIND_HUMAN}
    for key, text in humans.items():
        for j, voice in enumerate(TUNE_VOICES + BLIND_VOICES):
            line = LINES[(j + 1) % len(LINES)]

            def make_h(t: str = text, vo: str = voice, ln: Line = line) -> np.ndarray:
                return ln.apply(join(silence(0.4), at_level(speak(t, vo), -18), silence(5.0)))

            out.append(
                Sample(
                    f"human-{key}-{voice}-{line.tag}",
                    None,
                    "human",
                    make_h,
                    needs=(voice,),
                    blind_only=key in BLIND_HUMAN or voice in BLIND_VOICES,
                )
            )
    for key, text in VOICEMAIL_TEXTS.items():
        for j, voice in enumerate(TUNE_VOICES + BLIND_VOICES):
            line = LINES[(j + 2) % len(LINES)]
            with_beep = j % 2 == 0

            def make_vm(
                t: str = text, vo: str = voice, ln: Line = line, b: bool = with_beep
            ) -> np.ndarray:
                tail = join(silence(0.4), beep(1000.0, 0.5)) if b else silence(0.0)
                return ln.apply(join(silence(0.3), at_level(speak(t, vo), -20), tail, silence(3.0)))

            out.append(
                Sample(
                    f"voicemail-{key}-{voice}-{line.tag}{'-beep' if with_beep else ''}",
                    None,
                    "machine",
                    make_vm,
                    needs=(voice,),
                    blind_only=voice in BLIND_VOICES,
                )
            )
    for key, text in {**ASSISTANTS, **BLIND_ASSISTANTS}.items():
        for j, voice in enumerate(TUNE_VOICES + BLIND_VOICES):
            line = LINES[(j + 3) % len(LINES)]

            def make_as(t: str = text, vo: str = voice, ln: Line = line) -> np.ndarray:
                return ln.apply(join(silence(0.5), at_level(speak(t, vo), -20), silence(4.0)))

            out.append(
                Sample(
                    f"assistant-{key}-{voice}-{line.tag}",
                    None,
                    "machine",
                    make_as,
                    needs=(voice,),
                    blind_only=key in BLIND_ASSISTANTS or voice in BLIND_VOICES,
                )
            )
    out.extend(_holdout())
    return out


def _holdout() -> list[Sample]:
    out: list[Sample] = []
    groups: list[tuple[str, dict[str, str], str | None, str | None, float, float]] = [
        ("announcement", HOLDOUT_ANNOUNCEMENTS, "announcement", None, -21.0, 1.5),
        ("human", HOLDOUT_HUMAN, None, "human", -17.0, 5.0),
        ("assistant", HOLDOUT_ASSISTANTS, None, "machine", -19.0, 4.0),
        ("voicemail", HOLDOUT_VOICEMAIL, None, "machine", -22.0, 3.0),
    ]
    for kind, texts, early, amd, dbfs, tail in groups:
        for key, text in texts.items():
            for j, voice in enumerate(HOLDOUT_VOICES):
                noise, law, seed = HOLDOUT_LINES[j]
                line = Line(noise, law, seed)

                def make(
                    t: str = text,
                    vo: str = voice,
                    ln: Line = line,
                    d: float = dbfs,
                    e: float = tail,
                ) -> np.ndarray:
                    return ln.apply(join(silence(0.35), at_level(speak(t, vo), d), silence(e)))

                out.append(
                    Sample(
                        f"holdout-{kind}-{key}-{voice}-{line.tag}",
                        early,
                        amd,
                        make,
                        invalid=None,
                        needs=(voice,),
                        holdout=True,
                    )
                )
    for variant, law in ((SitVariant.VACANT_CODE, "ulaw"), (SitVariant.REORDER, "alaw")):

        def make_sit(v: SitVariant = variant, lw: str = law) -> np.ndarray:
            one = sit(v, -20.0, 1.004)
            return Line(-44.0, lw, 25).apply(join(silence(0.6), one, silence(1.2), one))

        out.append(
            Sample(
                f"holdout-sit-{variant.name.lower()}-{law}",
                "sit",
                None,
                make_sit,
                variant,
                holdout=True,
            )
        )
    out.append(
        Sample(
            "holdout-ringback-425",
            "ringback",
            None,
            lambda: Line(-46.0, "alaw", 26).apply(ringback(425.0, 1.0, 4.0, 2, -22.0)),
            holdout=True,
        )
    )
    out.append(
        Sample(
            "holdout-music",
            "none",
            None,
            lambda: Line(-50.0, "ulaw", 27).apply(music(10.0, 99, -18.0)),
            holdout=True,
        )
    )
    return out


def assistant_transcripts() -> dict[str, str]:
    """The texts the carrier assistants say (what a recognizer would transcribe)."""
    return {**ASSISTANTS, **BLIND_ASSISTANTS}
