"""The Silero loader on a tiny torch.package the test builds: same file layout
("tts_models"/"model"), same `apply_tts(text=, ssml_text=, speaker=, sample_rate=, put_accent=,
put_yo=)` interface and `speakers` attribute as the real v4_ru / v5_cis_base files, returning a
real tensor (a deterministic tone per character). Proves loading, speaker selection, sample-rate
handling, SSML tempo, long-text splitting and the torch thread setting — not the voice itself
(the real weights cannot be downloaded on this machine)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")

torch = pytest.importorskip("torch")

from cuckoo.config import Config  # noqa: E402
from cuckoo.line.audio import Audio  # noqa: E402
from cuckoo.speech.tts import TtsError, build_synthesizer, choose_voice, load_profiles  # noqa: E402
from cuckoo.speech.tts.silero import MAX_CHARS, SileroEngine, load_model  # noqa: E402

FAKE_SOURCE = textwrap.dedent(
    '''
    import math
    import re

    import torch


    class FakeSileroTTS(torch.nn.Module):
        """10 ms of a sine per character; the pitch depends on the speaker."""

        speakers = ["aidar", "baya", "kseniya", "xenia", "eugene", "random", "ru_xenia"]

        def __init__(self):
            super().__init__()
            self.gain = torch.nn.Parameter(torch.tensor(0.5))
            self.calls = []

        def apply_tts(self, text=None, ssml_text=None, speaker="xenia", sample_rate=48000,
                      put_accent=True, put_yo=True):
            body = text if text is not None else re.sub(r"<[^>]+>", "", ssml_text)
            if len(body) > 1000:
                raise ValueError("Model couldn't generate your text, probably it's too long")
            if speaker not in self.speakers:
                raise ValueError("Speaker not in the supported list")
            if sample_rate not in (8000, 24000, 48000):
                raise ValueError("Sample rate not supported")
            self.calls.append({"text": text, "ssml": ssml_text, "speaker": speaker,
                               "rate": sample_rate, "accent": put_accent, "yo": put_yo,
                               "threads": torch.get_num_threads()})
            n = int(sample_rate * 0.01) * len(body)
            hz = 200.0 + 20.0 * self.speakers.index(speaker)
            t = torch.arange(n, dtype=torch.float32) / sample_rate
            return self.gain * torch.sin(2 * math.pi * hz * t)
    '''
)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    (src / "fake_silero_tts.py").write_text(FAKE_SOURCE)
    sys.path.insert(0, str(src))
    try:
        import fake_silero_tts

        path = tmp_path_factory.mktemp("models") / "silero" / "v4_ru.pt"
        path.parent.mkdir()
        with torch.package.PackageExporter(str(path)) as exp:
            exp.intern("fake_silero_tts")
            exp.extern(["torch", "torch.**", "math", "re"])
            exp.save_pickle("tts_models", "model", fake_silero_tts.FakeSileroTTS())
    finally:
        sys.path.remove(str(src))
        sys.modules.pop("fake_silero_tts", None)
    return path


def test_loads_from_the_package_not_from_sys_path(model_file: Path) -> None:
    model = load_model(model_file, threads=1)
    # the class came out of the package file (torch.package mangles its module name)
    assert "fake_silero_tts" in type(model).__module__
    assert type(model).__module__ != "fake_silero_tts"
    assert "fake_silero_tts" not in sys.modules
    assert load_model(model_file, threads=1) is model  # one model per process


def test_thread_count_is_set(model_file: Path) -> None:
    before = torch.get_num_threads()
    try:
        engine = SileroEngine(model_file, speaker="xenia", threads=2)
        engine.render("да", rate=24000)
        assert engine._model.calls[-1]["threads"] == 2
        SileroEngine(model_file, speaker="xenia", threads=1).render("да", rate=24000)
        assert engine._model.calls[-1]["threads"] == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(("speaker", "hz"), [("aidar", 200.0), ("xenia", 260.0), ("eugene", 280.0)])
def test_speaker_selection(model_file: Path, speaker: str, hz: float) -> None:
    audio = SileroEngine(model_file, speaker=speaker).render("абвгд", rate=8000)
    spectrum = np.abs(np.fft.rfft(audio.samples().astype(np.float64)))
    peak = np.fft.rfftfreq(len(audio.samples()), 1 / 8000)[int(np.argmax(spectrum))]
    assert peak == pytest.approx(hz, abs=5)


def test_unknown_speaker_names_the_file_and_the_choices(model_file: Path) -> None:
    with pytest.raises(TtsError, match=r"v4_ru.pt: no speaker 'ru_zhazira'; available: aidar"):
        SileroEngine(model_file, speaker="ru_zhazira")


@pytest.mark.parametrize(
    ("asked", "produced"), [(8000, 8000), (24000, 24000), (48000, 48000), (16000, 24000)]
)
def test_sample_rate_handling(model_file: Path, asked: int, produced: int) -> None:
    engine = SileroEngine(model_file, speaker="xenia", sample_rate=24000)
    audio = engine.render("привет", rate=asked)
    # rates Silero supports are produced directly; others at the native rate (caller resamples)
    assert audio.rate == produced
    assert audio.duration_s == pytest.approx(0.06)
    assert engine._model.calls[-1]["rate"] == produced
    peak = int(np.max(np.abs(audio.samples())))
    assert 0.45 * 32767 < peak <= 0.5 * 32767 + 1  # float [-1, 1] scaled to int16


def test_bad_native_rate_is_refused(model_file: Path) -> None:
    with pytest.raises(TtsError, match="sample_rate"):
        SileroEngine(model_file, speaker="xenia", sample_rate=22050)


def test_long_text_is_split_at_sentence_ends(model_file: Path) -> None:
    engine = SileroEngine(model_file, speaker="xenia")
    sentence = "Это предложение номер {} для проверки длинного текста."
    text = " ".join(sentence.format(i) for i in range(60))  # ~3400 characters
    assert len(text) > 3000
    model = engine._model
    model.calls.clear()
    audio = engine.render(text, rate=8000)
    pieces = [c["text"] for c in model.calls]
    assert len(pieces) >= 4
    assert all(len(p) <= MAX_CHARS for p in pieces)
    assert all(p.endswith(".") for p in pieces)  # cut between sentences, never inside one
    assert " ".join(pieces) == text
    # every character was spoken, plus a short pause between pieces
    expected = sum(len(p) * 0.01 for p in pieces) + 0.15 * (len(pieces) - 1)
    assert audio.duration_s == pytest.approx(expected, abs=0.01)


def test_accent_and_yo_flags_and_tempo_via_ssml(model_file: Path) -> None:
    engine = SileroEngine(model_file, speaker="baya", put_accent=False, put_yo=False)
    engine.render("ёж", rate=8000)
    call = engine._model.calls[-1]
    assert (call["accent"], call["yo"], call["ssml"]) == (False, False, None)
    slow = SileroEngine(model_file, speaker="baya", tempo=0.8)
    slow.render("a<b", rate=8000)
    assert slow._model.calls[-1]["ssml"] == '<speak><prosody rate="slow">a&lt;b</prosody></speak>'
    ssml = slow.render_ssml('<speak>да<break time="300ms"/>нет</speak>', rate=8000)
    assert ssml.duration_s == pytest.approx(0.05)


def test_build_synthesizer_prefers_mit_silero_when_its_file_is_present(
    model_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    models = tmp_path / "models"
    (models / "silero").mkdir(parents=True)
    (models / "silero" / "v5_cis_base.pt").write_bytes(model_file.read_bytes())
    cfg = Config.model_validate(
        {"models_dir": models, "var_dir": tmp_path / "var", "voices_dir": tmp_path / "voices"}
    )
    synth = build_synthesizer(cfg)
    assert synth.profile.name == "silero-v5-cis"
    assert "voice silero-v5-cis (engine silero): automatic choice" in caplog.text
    audio = synth.synthesize("Заказ 5", rate=8000)
    assert isinstance(audio, Audio) and audio.rate == 8000
    assert synth.engine._model.calls[-1]["text"] == synth.prepare("Заказ 5")
    assert synth.synthesize("Заказ 5", rate=8000) == audio and synth.hits == 1


def test_non_commercial_silero_only_by_name(model_file: Path, tmp_path: Path) -> None:
    cfg = Config.model_validate(
        {
            "models_dir": model_file.parent.parent,
            "var_dir": tmp_path / "var",
            "voices_dir": tmp_path / "voices",
        }
    )
    profiles = load_profiles(tmp_path / "voices")
    auto, why = choose_voice(cfg, profiles, None)
    assert auto.name != "silero-v4-ru"
    assert "silero-v4-ru: licence CC BY-NC 4.0 (non-commercial): not chosen" in why
    synth = build_synthesizer(cfg, "silero-v4-ru")
    assert synth.profile.name == "silero-v4-ru" and synth.synthesize("да").pcm


def test_missing_or_broken_model_file(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="not found"):
        load_model(tmp_path / "nope.pt")
    # The hint names the catalog entry of that very file (it once said v4 for every file).
    with pytest.raises(TtsError, match=r"cuckoo models download silero-v5-cis\)"):
        load_model(tmp_path / "v5_cis_base.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a zip")
    with pytest.raises(TtsError, match=r"bad\.pt: not a Silero TTS package"):
        load_model(bad)
