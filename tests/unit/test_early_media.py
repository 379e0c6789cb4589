"""The early-media detector (cuckoo.telephony.early) on generated audio: every SIT variant
through noise and G.711, ringback, silence, noise, music, operator announcements (espeak-ng);
what it makes of a call (outcomes); and the after-answer detector's transcript rule and keys
(cuckoo.telephony.amd)."""

from __future__ import annotations

import numpy as np
import pytest
from amd_samples import at_level, beep, espeak, frames, have_espeak, join, noisy, silence, trim
from early_samples import ASSISTANTS, LINES, Line, music, ringback, sit, tone

from cuckoo.config.telephony import AmdSettings
from cuckoo.domain import Outcome
from cuckoo.policy.retry import RetryPolicy, counts_as_contact
from cuckoo.telephony.amd import AnsweringMachineDetector, Verdict, machine_phrase
from cuckoo.telephony.early import (
    EarlyKind,
    EarlyMediaDetector,
    Segment,
    SitVariant,
    announcement_says_invalid,
    classify_sit,
    sit_tones,
)
from cuckoo.telephony.outcomes import early_media_outcome
from cuckoo.telephony.simphone import Behavior

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng")


def run(x: np.ndarray, **settings: float | bool) -> EarlyMediaDetector:
    """The detector with announcements on (their default is off: see AmdSettings)."""
    d = EarlyMediaDetector(AmdSettings(**{"early_announcements": True, **settings}))  # type: ignore[arg-type]
    for f in frames(x):
        if d.feed(f).final:
            break
    return d


@pytest.mark.parametrize("variant", list(SitVariant))
@pytest.mark.parametrize("line", LINES, ids=[ln.tag for ln in LINES])
def test_every_sit_variant_is_told_apart_through_noise_and_g711(
    variant: SitVariant, line: Line
) -> None:
    d = run(line.apply(join(silence(0.4), sit(variant, -20.0), silence(1.0))))
    assert d.decision.kind == EarlyKind.SIT, d.decision
    assert d.decision.sit is not None and d.decision.sit.variant == variant, d.decision.reason
    assert d.decision.invalid == (variant in (SitVariant.VACANT_CODE, SitVariant.INTERCEPT))
    assert d.decision.at_s < 1.7  # right after the third segment, not after a repeat


def test_sit_tones_and_classify_sit_agree() -> None:
    for variant in SitVariant:
        t = 0.0
        segs = []
        for hz, s in sit_tones(variant):
            segs.append(Segment(t, s, hz))
            t += s
        found = classify_sit((segs[0], segs[1], segs[2]))
        assert found is not None and found.variant == variant


def test_three_tones_that_are_no_sit_are_not_one() -> None:
    falling = (Segment(0, 0.33, 1800.0), Segment(0.33, 0.33, 1400.0), Segment(0.66, 0.33, 950.0))
    apart = (Segment(0, 0.33, 950.0), Segment(0.6, 0.33, 1400.0), Segment(0.93, 0.33, 1800.0))
    long = (Segment(0, 0.9, 950.0), Segment(0.9, 0.33, 1400.0), Segment(1.23, 0.33, 1800.0))
    for segs in (falling, apart, long):
        assert classify_sit(segs) is None
    # a voicemail's beeps at SIT-like pitches but with gaps: no SIT
    x = join(beep(950, 0.33), silence(0.3), beep(1400, 0.33), silence(0.3), beep(1800, 0.33))
    assert run(x).decision.kind != EarlyKind.SIT


@pytest.mark.parametrize(
    "hz", [425.0, 400.0, 450.0, (400.0, 450.0)], ids=["425", "400", "450", "400+450"]
)
def test_ringback_is_ringback_and_not_final(hz: float | tuple[float, ...]) -> None:
    d = run(Line(-45.0, "alaw", 7).apply(join(silence(0.3), ringback(hz, 1.0, 4.0, 2))))
    assert d.decision.kind == EarlyKind.RINGBACK, d.decision
    assert not d.decision.final
    assert d.speech_s < 0.2  # a tone is no speech


def test_silence_noise_music_and_a_short_beep_decide_nothing() -> None:
    assert run(silence(4.0)).decision.kind == EarlyKind.SILENCE
    for x in (
        noisy(silence(8.0), -40.0, 3),
        noisy(silence(8.0), -30.0, 4),
        music(10.0, 5),
        music(10.0, 6, -12.0),
        join(silence(0.5), beep(1000.0, 0.5), silence(2.0)),
    ):
        d = run(x)
        assert not d.decision.final, d.decision
        assert d.decision.kind in (EarlyKind.SILENCE, EarlyKind.UNDECIDED)


def test_a_busy_tone_in_early_media_is_no_announcement() -> None:
    x = join(*([tone(425.0, 0.35, -18.0), silence(0.35)] * 8))
    d = run(noisy(x, -50.0, 8))
    assert not d.decision.final, d.decision


@needs_espeak
@pytest.mark.parametrize(
    "text",
    [
        "Абонент недоступен. Попробуйте позвонить позднее.",
        "Аппарат абонента выключен или находится вне зоны действия сети.",
        "Номер, который вы набрали, не существует.",
    ],
)
def test_an_operator_announcement_is_one(text: str) -> None:
    speech = at_level(trim(espeak(text)), -20.0)
    d = run(Line(-50.0, "ulaw", 9).apply(join(silence(0.5), speech, silence(1.0))))
    assert d.decision.kind == EarlyKind.ANNOUNCEMENT, d.decision
    assert d.decision.final and not d.decision.invalid  # audio alone cannot say which
    assert d.decision.at_s < 0.5 + len(speech) / 8000 + 0.5


@needs_espeak
def test_ringback_then_an_announcement_is_an_announcement() -> None:
    speech = at_level(trim(espeak("Абонент не отвечает. Попробуйте позвонить позднее.")), -20.0)
    d = run(join(ringback(cycles=1), speech, silence(1.0)))
    assert d.decision.kind == EarlyKind.ANNOUNCEMENT, d.decision


@needs_espeak
def test_announcements_can_be_switched_off() -> None:
    speech = at_level(trim(espeak("Абонент недоступен. Попробуйте позвонить позднее.")), -20.0)
    d = run(join(silence(0.5), speech, silence(1.0)), early_announcements=False)
    assert not d.decision.final
    assert d.speech_s > 1.0  # it was heard, just not acted on


def test_a_transcript_says_whether_the_number_exists() -> None:
    assert announcement_says_invalid("Номер, который вы набрали, не существует")
    assert announcement_says_invalid("неправильно набран номер")
    assert not announcement_says_invalid("абонент недоступен, попробуйте позвонить позднее")
    d = EarlyMediaDetector()
    assert d.note_transcript("номер не существует").invalid
    assert d.decision.kind == EarlyKind.ANNOUNCEMENT and d.decision.final
    d = EarlyMediaDetector()
    assert not d.note_transcript("аппарат абонента выключен").invalid
    # a SIT's code stands whatever is said after it
    d = run(join(sit(SitVariant.VACANT_CODE), silence(0.3)))
    assert d.note_transcript("абонент недоступен").kind == EarlyKind.SIT
    assert d.decision.invalid


def test_what_a_refused_call_becomes_is_no_contact() -> None:
    assert early_media_outcome(invalid=True) == Outcome.INVALID_NUMBER
    assert early_media_outcome(invalid=False) == Outcome.NO_ANSWER
    for invalid in (True, False):
        assert not counts_as_contact(early_media_outcome(invalid=invalid), RetryPolicy())


def test_the_detector_wants_8khz() -> None:
    with pytest.raises(ValueError, match="8 kHz"):
        EarlyMediaDetector(rate=16000)


# ---- after the answer: carrier assistants, transcripts, keys ------------------------------------
def amd_run(x: np.ndarray, key_at_s: float | None = None) -> AnsweringMachineDetector:
    d = AnsweringMachineDetector()
    for i, f in enumerate(frames(x)):
        if key_at_s is not None and i == int(key_at_s / 0.02):
            d.note_dtmf()
        d.feed(f)
    return d


@needs_espeak
@pytest.mark.parametrize("key", list(ASSISTANTS))
def test_a_carrier_voice_assistant_is_a_machine_by_its_greeting_alone(key: str) -> None:
    x = join(silence(0.5), at_level(trim(espeak(ASSISTANTS[key])), -20.0), silence(4.0))
    d = amd_run(noisy(x, -55.0, 10))
    assert d.verdict == Verdict.MACHINE, d.reason
    assert "greeting longer" in d.reason or "words" in d.reason


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Здравствуйте, я голосовой помощник абонента. Представьтесь", "голосовой помощник"),
        ("Это виртуальный ассистент, абонент не может ответить", "виртуальный ассистент"),
        ("Оставьте сообщение после звукового сигнала", "Оставьте сообщение"),
        ("Абонент не может ответить", "Абонент не может ответить"),
        ("Вы позвонили на автоответчик", "автоответчик"),
    ],
)
def test_a_machines_words_make_it_a_machine(text: str, phrase: str) -> None:
    assert machine_phrase(text) == phrase
    d = AnsweringMachineDetector()
    d.feed(bytes(320 * 10))
    assert d.note_transcript(text)
    assert d.verdict == Verdict.MACHINE and phrase in d.reason


@pytest.mark.parametrize(
    "text", ["Алло, кто это? Представьтесь.", "Да, слушаю. По какому вопросу?", "Алло, говорите"]
)
def test_what_people_say_is_no_machine(text: str) -> None:
    assert machine_phrase(text) is None
    d = AnsweringMachineDetector()
    assert not d.note_transcript(text)
    assert d.verdict == Verdict.UNDECIDED


@needs_espeak
def test_a_key_pressed_during_a_machine_length_greeting_means_a_person() -> None:
    """A key always means a person: pressed 1 s into a long greeting, before any verdict, it
    wins over the greeting's length, the beep after it and the assistant's words."""
    greeting = at_level(trim(espeak(ASSISTANTS["pomoshnik"])), -20.0)
    x = join(silence(0.3), greeting, silence(0.4), beep(1000.0, 0.5), silence(2.0))
    d = amd_run(x, key_at_s=1.3)
    assert d.verdict == Verdict.HUMAN and d.reason == "a key was pressed"
    assert not d.note_transcript(ASSISTANTS["pomoshnik"])
    assert d.verdict == Verdict.HUMAN
    # without the key the same audio is a machine
    assert amd_run(x).verdict == Verdict.MACHINE


def test_a_key_after_a_machine_verdict_still_makes_it_a_person() -> None:
    d = AnsweringMachineDetector()
    assert d.note_transcript("Оставьте сообщение после сигнала")
    d.note_dtmf()
    assert d.verdict == Verdict.HUMAN


# ---- the sim phone's early media ---------------------------------------------------------------
def test_sim_phone_early_media_behaviours_are_checked() -> None:
    b = Behavior.from_dict({"action": "code", "code": 404, "early": "sit", "early_sit": "itu"})
    assert b.early == "sit" and SitVariant[b.early_sit.upper()] == SitVariant.ITU
    with pytest.raises(ValueError, match="early must be one of"):
        Behavior.from_dict({"early": "music"})
    with pytest.raises(ValueError, match="not a SIT variant"):
        Behavior.from_dict({"early": "sit", "early_sit": "vacant"})
