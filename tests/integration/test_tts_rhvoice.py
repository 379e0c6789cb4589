"""RHVoice (libRHVoice.so.5 through ctypes) really speaks Russian here: audible speech of a
plausible length, 8 kHz for calls, "+" stress marks, tempo, two threads at once, the automatic
voice choice, and a clear error when the library is missing. ./dev installs RHVoice, so these
run in CI; elsewhere they skip with the reason."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from cuckoo.config import Config
from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts import build_synthesizer
from cuckoo.speech.tts.rhvoice import INSTALL_HINT, RHVoiceEngine, rhvoice_available

pytestmark = pytest.mark.skipif(
    rhvoice_available() is not None, reason=f"RHVoice missing: {rhvoice_available()}"
)

PHRASE = "Здравствуйте! Ваш заказ номер сто двадцать три готов к выдаче."


def rms(a: Audio) -> float:
    x = a.samples().astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def voiced_fraction(a: Audio) -> float:
    x = a.samples().astype(np.float64)
    n = a.rate // 50
    frames = x[: len(x) // n * n].reshape(-1, n)
    return float(np.mean(np.sqrt(np.mean(frames**2, axis=1)) > 300))


def assert_speech(a: Audio, min_s: float, max_s: float) -> None:
    assert min_s < a.duration_s < max_s, a.duration_s
    assert rms(a) > 500
    assert voiced_fraction(a) > 0.3


@pytest.fixture(scope="module")
def aleksandr() -> RHVoiceEngine:
    return RHVoiceEngine(voice="aleksandr")


@pytest.mark.parametrize("voice", ["aleksandr", "anna", "irina"])
def test_speaks_russian(voice: str) -> None:
    audio = RHVoiceEngine(voice=voice).render(PHRASE, rate=8000)
    assert audio.rate == RHVoiceEngine.native_rate == 24000
    # about 12 syllables a second: a 23-syllable phrase plus two pauses
    assert_speech(audio, 2.5, 8.0)


def test_synthesizer_gives_telephony_audio(tmp_path: Path) -> None:
    cfg = Config.model_validate({"var_dir": tmp_path / "var", "voices_dir": tmp_path / "voices"})
    synth = build_synthesizer(cfg, "rhvoice-aleksandr")
    audio = synth.synthesize("Заказ № 123 готов", rate=8000)
    assert audio.rate == 8000
    assert_speech(audio, 1.0, 5.0)
    assert synth.synthesize("Заказ № 123 готов", rate=8000) == audio and synth.hits == 1


def test_stress_marks_move_the_stress(aleksandr: RHVoiceEngine) -> None:
    castle = aleksandr.render("з+амок", rate=24000)
    lock = aleksandr.render("зам+ок", rate=24000)
    assert castle.pcm != lock.pcm
    # "+" is a stress mark, not a word break: «з+амок» is not «з амок»
    assert castle.pcm != aleksandr.render("з амок", rate=24000).pcm
    assert abs(castle.duration_s - aleksandr.render("замок", rate=24000).duration_s) < 0.1
    assert_speech(castle, 0.4, 1.5)
    assert_speech(lock, 0.4, 1.5)


def test_tempo_changes_the_duration(aleksandr: RHVoiceEngine) -> None:
    normal = aleksandr.render(PHRASE, rate=24000).duration_s
    slow = RHVoiceEngine(voice="aleksandr", tempo=0.8).render(PHRASE, rate=24000).duration_s
    fast = RHVoiceEngine(voice="aleksandr", tempo=1.25).render(PHRASE, rate=24000).duration_s
    assert slow == pytest.approx(normal / 0.8, rel=0.1)
    assert fast == pytest.approx(normal / 1.25, rel=0.1)


def test_pitch_changes_the_sound(aleksandr: RHVoiceEngine) -> None:
    high = RHVoiceEngine(voice="aleksandr", pitch=80).render("Добрый день", rate=24000)
    assert high.pcm != aleksandr.render("Добрый день", rate=24000).pcm


def test_stream_yields_the_first_sentence_first(aleksandr: RHVoiceEngine) -> None:
    pieces = list(aleksandr.stream("Добрый день. Ваш заказ готов! Ждём вас завтра."))
    assert len(pieces) == 3
    for p in pieces:
        assert_speech(p, 0.4, 3.0)
    assert aleksandr.render("Добрый день.", rate=24000).pcm == pieces[0].pcm
    stopped = list(aleksandr.stream("Раз. Два. Три.", stop=lambda: True))
    assert stopped == []


def test_two_threads_at_once(aleksandr: RHVoiceEngine) -> None:
    texts = ["Добрый день, ваш заказ готов.", "Ваша запись на завтра подтверждена."]
    alone = [aleksandr.render(t, rate=24000) for t in texts]
    results: dict[int, list[Audio]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            engine = RHVoiceEngine(voice="aleksandr")  # a second engine shares the native one
            for _ in range(5):
                results[i].append(engine.render(texts[i], rate=24000))
        except BaseException as e:  # reported below, in the test thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for i in (0, 1):
        assert [a.pcm for a in results[i]] == [alone[i].pcm] * 5  # no samples crossed over


def test_missing_library_names_the_install_command() -> None:
    with pytest.raises(TtsError) as err:
        RHVoiceEngine(library="/nonexistent/libRHVoice.so.5")
    assert INSTALL_HINT in str(err.value)
    assert INSTALL_HINT in (rhvoice_available(library="/nonexistent/libRHVoice.so.5") or "")


def test_missing_voice_data(tmp_path: Path) -> None:
    why = rhvoice_available(data_path=tmp_path)
    assert why is not None and "Russian data missing" in why and INSTALL_HINT in why
    with pytest.raises(TtsError, match="voice 'nobody' is not installed"):
        RHVoiceEngine(voice="nobody")


def test_automatic_choice_is_rhvoice_aleksandr(tmp_path: Path, caplog) -> None:
    caplog.set_level("INFO")
    cfg = Config.model_validate(
        {
            "models_dir": tmp_path / "models",
            "var_dir": tmp_path / "var",
            "voices_dir": tmp_path / "voices",
        }
    )
    synth = build_synthesizer(cfg)
    assert synth.profile.name == "rhvoice-aleksandr"
    assert "voice rhvoice-aleksandr (engine rhvoice): automatic choice" in caplog.text
    assert_speech(synth.synthesize("Добрый день", rate=8000), 0.4, 3.0)
