"""Hybrid prompts (16.3): a `say:` that mixes recordings with synthesized text. Recordings in
common formats are converted once (mono, the call's rate), their loudness matched to the voice,
checked with file:line, played between the synthesized parts on a real SIP call."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile
from telephony_helpers import SimPhoneProc, scenario_request

from cuckoo.config.telephony import TelephonySettings
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.dialog.loader import check_file, load_scenario, validate_dir
from cuckoo.dialog.runner import run_dialog
from cuckoo.dialog.text_line import TextLine
from cuckoo.errors import ConfigError
from cuckoo.line.audio import Audio
from cuckoo.speech import recordings
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig

NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thursday, 10:00 in Moscow

SCENARIO = """\
name: greet
start: hello
variables:
  customer: Пётр
states:
  hello:
    say:
      - play: jingle.flac
      - "{{ customer }}, Ваш заказ готов."
      - play: thanks.ogg
    next: ask
  ask:
    ask: Нажмите 1.
    answers:
      - {dtmf: "1", go: done}
    on_fail: done
  done:
    outcome: confirmed
"""


def tone(hz: float, seconds: float, rate: int, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)).astype(np.float64)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenario with its recordings: a quiet stereo FLAC jingle at 44.1 kHz (1 kHz tone at
    -40 dBFS) and a loud OGG at 22.05 kHz (the voice saying «Спасибо», +15 dB)."""
    (tmp_path / "greet.yaml").write_text(SCENARIO, encoding="utf-8")
    jingle = tone(1000, 0.6, 44100, -40)
    soundfile.write(tmp_path / "jingle.flac", np.stack([jingle, jingle], axis=1), 44100)
    voice = espeak_synthesizer().synthesize("Спасибо!", rate=22050).samples() / 32768.0
    soundfile.write(tmp_path / "thanks.ogg", np.clip(voice * 5.6, -1, 1), 22050)
    return tmp_path


def test_a_recording_is_converted_once_and_matched_to_the_voice(folder: Path) -> None:
    voice = espeak_synthesizer()
    level = recordings.voice_level_dbfs(voice)
    assert level is not None and -35 < level < -3
    a = recordings.load_recording(folder / "jingle.flac", level_dbfs=level)
    assert a.rate == 8000 and abs(a.duration_s - 0.6) < 0.01  # mono, the call's rate
    assert a.samples().ndim == 1
    got = recordings.speech_level_dbfs(a)
    assert got is not None and abs(got - level) < 1.0  # as loud as the voice, not -40 dBFS
    assert recordings.load_recording(folder / "jingle.flac", level_dbfs=level) is a  # cached
    loud = recordings.load_recording(folder / "thanks.ogg", level_dbfs=level)
    got = recordings.speech_level_dbfs(loud)
    assert got is not None and abs(got - level) < 1.5
    assert np.abs(loud.samples()).max() <= 32767
    # an edited file is converted again (keyed by its content)
    soundfile.write(folder / "jingle.flac", tone(500, 0.3, 16000, -20), 16000)
    again = recordings.load_recording(folder / "jingle.flac", level_dbfs=level)
    assert again is not a and abs(again.duration_s - 0.3) < 0.01


def test_check_names_a_missing_or_unreadable_recording_by_line(folder: Path) -> None:
    assert check_file(folder / "greet.yaml")[1] == []
    (folder / "thanks.ogg").unlink()
    (folder / "jingle.flac").write_text("not audio", encoding="utf-8")
    problems = [str(p) for p in validate_dir(folder)]
    assert len(problems) == 2
    assert problems[0].startswith(f"{folder / 'greet.yaml'}:8: states.hello.say.0: recording")
    assert "cannot be read as audio" in problems[0]
    assert problems[1].startswith(f"{folder / 'greet.yaml'}:10: states.hello.say.2: recording")
    assert problems[1].endswith("thanks.ogg not found")


def test_the_dialog_plays_and_says_in_order(folder: Path) -> None:
    out = io.StringIO()
    line = TextLine(io.StringIO("1\n"), out, echo=False)
    r = run_dialog(
        load_scenario(folder / "greet.yaml"),
        line,
        {"customer": "Анна"},
        now=lambda: NOW,
        tz="Europe/Moscow",
        speech_available=False,
    )
    assert r.said[:3] == ["<jingle.flac>", "Анна, Ваш заказ готов.", "<thanks.ogg>"]
    assert r.outcome.value == "confirmed" and r.path == ["hello", "ask", "done"]
    assert "[звук, 0.6 с]" in out.getvalue()


def test_a_broken_recording_fails_before_dialling(folder: Path) -> None:
    conv = ScenarioConversation(folder, speech_available=False)
    request = scenario_request("sip:x@127.0.0.1:9", "greet", {"customer": "Пётр"})
    conv.prepare(request, espeak_synthesizer())  # fine as it is
    load_scenario(folder / "greet.yaml")  # cached valid; now the file breaks on disk
    (folder / "jingle.flac").write_bytes(b"\x00" * 100)
    with pytest.raises(ConfigError, match=r"jingle\.flac"):
        conv.prepare(request, espeak_synthesizer())


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=3.0)).start()
    yield e
    e.stop()


@pytest.mark.sip
def test_over_sip_the_customer_hears_the_recording(
    folder: Path, engine: Engine, tmp_path: Path
) -> None:
    heard = tmp_path / "heard-{n}.wav"
    script = {
        "default": {"action": "answer", "answer_after_s": 0.1},
        "users": {
            "anna": {
                "record": str(heard),
                "dtmf": [{"at_s": 6.0, "keys": "1", "method": "rfc2833"}],
            }
        },
    }
    (tmp_path / "phone").mkdir()
    phone = SimPhoneProc(script, tmp_path / "phone", name="hybrid")
    try:
        synth = espeak_synthesizer()
        r = run_call(
            engine,
            scenario_request(phone.uri("anna"), "greet", {"customer": "Анна"}),
            settings=TelephonySettings(
                bind_host="127.0.0.1",
                ring_timeout_s=3.0,
                setup_timeout_s=2.0,
                rtp_timeout_s=3.0,
                max_call_s=60,
            ),
            converse=ScenarioConversation(folder, speech_available=False),
            synthesizer=synth,
        )
        phone.wait_event("ended", user="anna")
    finally:
        phone.stop()
    assert r.outcome.value == "confirmed", r
    assert r.said[0] == "<jingle.flac>" and r.said[2] == "<thanks.ogg>"
    [wav] = sorted(tmp_path.glob("heard-*.wav"))
    got = Audio.read_wav(wav)
    x = got.samples().astype(np.float64)
    # The jingle's 1 kHz tone came through the call (G.711), at about the voice's level.
    frame = got.rate // 10
    spectra = [np.abs(np.fft.rfft(x[i : i + frame])) for i in range(0, len(x) - frame, frame)]
    freqs = np.fft.rfftfreq(frame, 1 / got.rate)
    tonal = [s for s in spectra if abs(freqs[int(np.argmax(s))] - 1000) < 20 and s.max() > 0]
    assert len(tonal) >= 3  # ≥ 0.3 s of the jingle heard
    level = recordings.voice_level_dbfs(synth)
    assert level is not None
    rms = [
        np.sqrt(np.mean(x[i : i + frame] ** 2))
        for i in range(0, len(x) - frame, frame)
        if abs(freqs[int(np.argmax(spectra[i // frame]))] - 1000) < 20
    ]
    heard_db = 20 * np.log10(np.median(rms) / 32768.0)
    assert abs(heard_db - level) < 3.0, (heard_db, level)  # not the file's -40 dBFS
