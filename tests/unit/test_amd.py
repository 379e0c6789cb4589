"""Answering-machine detection on real rendered Russian audio (espeak-ng and Festival at two
rates each): voicemail greetings with and without a beep, with line noise; short human answers;
silence and noise; the robot's own echo. A person must never be taken for a machine.

`pytest -s -k confusion` prints the confusion matrix over the whole table."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from amd_samples import (
    HUMAN_LONG,
    HUMAN_TEXTS,
    VOICEMAIL_TEXTS,
    at_level,
    beep,
    espeak,
    festival,
    frames,
    have_espeak,
    have_festival,
    join,
    noisy,
    silence,
    trim,
)

from cuckoo.config.telephony import AmdSettings
from cuckoo.telephony.amd import AnsweringMachineDetector, Verdict
from cuckoo.telephony.dtmf import tone

pytestmark = pytest.mark.skipif(
    not (have_espeak() and have_festival()), reason="needs espeak-ng and festival (festvox-ru)"
)

VOICES = (("espeak", 150.0), ("espeak", 190.0), ("festival", 1.0), ("festival", 0.85))
M, H, U = Verdict.MACHINE, Verdict.HUMAN, Verdict.UNDECIDED


@functools.cache
def speech(text: str, voice: str = "espeak", rate: float = 150.0) -> np.ndarray:
    raw = espeak(text, int(rate)) if voice == "espeak" else festival(text, rate)
    return trim(raw)


def run(
    x: np.ndarray, sent: np.ndarray | None = None, **settings: float
) -> AnsweringMachineDetector:
    """Feed `x` (the far end) frame by frame, with `sent` (what the robot said) for the echo
    gate, until the detector has nothing more to learn."""
    d = AnsweringMachineDetector(AmdSettings(**settings))  # type: ignore[arg-type]
    tx = frames(sent) if sent is not None else []
    for i, f in enumerate(frames(x)):
        level = 0.0
        if i < len(tx):
            s = np.frombuffer(tx[i], dtype="<i2").astype(np.float64)
            level = float(np.sqrt(np.mean(s * s)))
        d.feed(f, level)
        if (d.verdict == M and d.ready) or (d.done and d.verdict != M):
            break
    return d


@dataclass(frozen=True)
class Case:
    name: str
    truth: str  # machine | human | nothing
    build: Callable[[], np.ndarray]
    expect: frozenset[Verdict]


def _voicemail(text: str, voice: str, rate: float, variant: str) -> Callable[[], np.ndarray]:
    def build() -> np.ndarray:
        g = speech(text, voice, rate)
        if variant == "clean":
            return join(silence(0.3), at_level(g, -20), silence(6))
        if variant == "beep":
            return join(silence(0.3), at_level(g, -20), silence(0.4), beep(1000, 0.5), silence(6))
        # a quieter greeting on a noisy line, a shorter, higher beep
        x = join(silence(0.5), at_level(g, -26), silence(0.6), beep(1400, 0.4, -18), silence(6))
        return noisy(x, -42)

    return build


def _human(text: str, voice: str, rate: float, variant: str) -> Callable[[], np.ndarray]:
    def build() -> np.ndarray:
        g = speech(text, voice, rate)
        if variant == "clean":
            return join(silence(0.4), at_level(g, -24), silence(8))
        if variant == "noisy":
            return noisy(join(silence(0.4), at_level(g, -24), silence(8)), -40)
        return noisy(join(silence(0.2), at_level(g, -32), silence(8)), -52)  # quiet, far away

    return build


def _cases() -> list[Case]:
    cases: list[Case] = []
    for key, text in VOICEMAIL_TEXTS.items():
        for voice, rate in VOICES:
            for variant in ("clean", "beep", "noisy-beep"):
                # with a beep it must be found; without one a shorter greeting may stay unsure
                expect = {M} if "beep" in variant else {M, U}
                cases.append(
                    Case(
                        f"voicemail-{key}-{voice}{rate:g}-{variant}",
                        "machine",
                        _voicemail(text, voice, rate, variant),
                        frozenset(expect),
                    )
                )
    for voice, rate in (("espeak", 150.0), ("festival", 1.0)):
        cases.append(
            Case(
                f"voicemail-short-greeting-{voice}",  # HUMAN at first, the beep turns it
                "machine",
                lambda v=voice, r=rate: join(  # type: ignore[misc]
                    silence(0.3),
                    at_level(speech("Оставьте сообщение.", v, r), -20),
                    silence(1.2),
                    beep(1000, 0.6),
                    silence(4),
                ),
                frozenset({M}),
            )
        )
    cases.append(
        Case(
            "voicemail-beep-only",
            "machine",
            lambda: noisy(join(silence(1.0), beep(850, 0.8), silence(5)), -50),
            frozenset({M}),
        )
    )
    for key, text in HUMAN_TEXTS.items():
        for voice, rate in (("espeak", 150.0), ("espeak", 190.0), ("festival", 1.0)):
            for variant in ("clean", "noisy", "quiet"):
                cases.append(
                    Case(
                        f"human-{key}-{voice}{rate:g}-{variant}",
                        "human",
                        _human(text, voice, rate, variant),
                        frozenset({H}),
                    )
                )
    for voice, rate in (("espeak", 150.0), ("festival", 1.0)):
        cases.append(
            Case(
                f"human-long-sentence-{voice}",  # ~2.5-3 s at once, then waits
                "human",
                lambda v=voice, r=rate: join(  # type: ignore[misc]
                    silence(0.4),
                    at_level(speech(HUMAN_LONG, v, r), -24),
                    silence(2.0),
                    at_level(speech("Говорите.", v, r), -24),
                    silence(6),
                ),
                frozenset({H, U}),
            )
        )
        cases.append(
            Case(
                f"human-allo-then-answers-the-robot-{voice}",  # a long answer after «Алло»
                "human",
                lambda v=voice, r=rate: join(  # type: ignore[misc]
                    silence(0.3),
                    at_level(speech("Алло?", v, r), -24),
                    silence(2.5),
                    at_level(speech(VOICEMAIL_TEXTS["mts"], v, r), -24),
                    silence(2),
                ),
                frozenset({H}),
            )
        )
        cases.append(
            Case(
                f"human-listens-then-talks-long-{voice}",  # silent, then a 5 s reply
                "human",
                lambda v=voice, r=rate: join(  # type: ignore[misc]
                    silence(3.0),
                    at_level(speech(VOICEMAIL_TEXTS["mts"], v, r), -24),
                    silence(2),
                ),
                frozenset({U}),
            )
        )
    busy = join(*[join(tone_425(0.35), silence(0.35)) for _ in range(8)])
    cases += [
        Case("silence-digital", "nothing", lambda: silence(10), frozenset({U})),
        Case("silence-line-hiss", "nothing", lambda: noisy(silence(10), -55), frozenset({U})),
        Case("noise-white-40dBFS", "nothing", lambda: noisy(silence(10), -40), frozenset({U})),
        Case("noise-white-30dBFS", "nothing", lambda: noisy(silence(10), -30), frozenset({U})),
        # a burst of it may pass for «Алло» (harmless: the call goes on), never for a greeting
        Case("noise-fluctuating", "nothing", lambda: fluctuating_noise(10), frozenset({U, H})),
        Case(
            "human-allo-then-busy-tone",  # hung up at once; the network plays 425 Hz
            "human",
            lambda: join(silence(0.3), at_level(speech("Алло?"), -24), silence(1), busy),
            frozenset({H}),
        ),
        Case(
            "inband-dtmf-key",
            "nothing",
            lambda: join(silence(1), 32768 * tone("1", 0.2), silence(6)),
            frozenset({U, H}),
        ),
    ]
    return cases


def tone_425(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000
    return 32768 * 0.2 * np.sin(2 * np.pi * 425 * t)


def fluctuating_noise(seconds: float) -> np.ndarray:
    """Street-like noise: white noise whose level swings ±8 dB about twice a second."""
    t = np.arange(int(seconds * 8000)) / 8000
    gain = 10 ** (8 * np.sin(2 * np.pi * 0.4 * t + 1.0) * np.sin(2 * np.pi * 1.3 * t) / 20)
    return noisy(silence(seconds), -42) * gain


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    d = run(case.build())
    assert d.verdict in case.expect, f"{case.name}: {d.verdict} ({d.reason})"
    if case.truth != "machine":
        assert d.verdict != M, d.reason  # the one mistake that must never happen


def test_confusion_matrix() -> None:
    table: Counter[tuple[str, str]] = Counter()
    for case in CASES:
        table[(case.truth, run(case.build()).verdict.value)] += 1
    cols = [v.value for v in Verdict]
    print("\ntruth \\ verdict  " + "  ".join(f"{c:>9}" for c in cols))
    for truth in ("machine", "human", "nothing"):
        print(f"{truth:16} " + "  ".join(f"{table[(truth, c)]:9d}" for c in cols))
    assert table[("human", "machine")] == 0 and table[("nothing", "machine")] == 0
    machines = sum(n for (t, _), n in table.items() if t == "machine")
    assert table[("machine", "machine")] / machines >= 0.85


def test_the_beep_decides_and_the_machine_is_ready_after_it() -> None:
    g = at_level(speech(VOICEMAIL_TEXTS["abonent"]), -20)
    d = run(join(silence(0.3), g, silence(0.4), beep(1000, 0.5), silence(4)))
    assert d.verdict == M and "beep" in d.reason and d.beep_hz == pytest.approx(1000, abs=15)
    assert d.ready and d.ready_reason == "after the beep"
    beep_end = 0.3 + len(g) / 8000 + 0.4 + 0.5
    assert beep_end < d.t < beep_end + 0.4  # ready right after the beep, not much later


def test_without_a_beep_the_machine_is_ready_after_its_silence() -> None:
    g = at_level(speech(VOICEMAIL_TEXTS["mts"]), -20)
    d = run(join(silence(0.3), g, silence(5)))
    assert d.verdict == M and "greeting longer" in d.reason
    assert d.ready and "silence" in d.ready_reason
    assert d.t == pytest.approx(0.3 + len(g) / 8000 + 2.0, abs=0.3)


def test_a_key_makes_it_human_even_before_any_speech_and_beeps_no_longer_count() -> None:
    d = AnsweringMachineDetector()
    d.note_dtmf()
    assert d.verdict == H and d.done
    for f in frames(join(beep(1000, 0.8), silence(1))):
        d.feed(f)
    assert d.verdict == H


@pytest.mark.parametrize("echo_db", [0.0, -6.0, -20.0])
def test_the_robots_own_echo_is_not_a_greeting(echo_db: float) -> None:
    """The robot talks from the answer on; a line (or baresip) that echoes it back must not
    sound like a long greeting."""
    robot = at_level(speech(VOICEMAIL_TEXTS["autoanswer"] + " " + HUMAN_LONG), -16)
    sent = join(robot, silence(3))
    delay = int(0.06 * 8000)
    echo = join(silence(0.06), sent[: len(sent) - delay]) * 10 ** (echo_db / 20)
    d = run(noisy(echo, -60), sent)
    assert d.verdict != M, d.reason
    if echo_db >= -6:
        without_gate = run(noisy(echo, -60))  # what the echo gate saves us from
        assert without_gate.verdict == M


def test_a_machine_talking_over_a_faint_echo_is_still_a_machine() -> None:
    robot = at_level(speech(HUMAN_LONG + " " + HUMAN_LONG), -16)
    sent = join(robot, silence(6))
    echo = join(silence(0.05), sent[: len(sent) - 400]) * 10 ** (-25 / 20)
    greeting = join(silence(0.3), at_level(speech(VOICEMAIL_TEXTS["mts"]), -20))
    far = echo[: len(greeting)] + greeting if len(greeting) <= len(echo) else greeting
    d = run(join(far, silence(3)), sent)
    assert d.verdict == M, d.reason


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="human_greeting_s"):
        AmdSettings(greeting_s=2.0, human_greeting_s=3.0)
    with pytest.raises(ValueError, match="beep_min_hz"):
        AmdSettings(beep_min_hz=2000, beep_max_hz=1000)
    assert AmdSettings().enabled is True
