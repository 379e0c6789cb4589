"""Festival (festvox-ru) and espeak-ng really synthesize Russian here; the warm Festival server
serves many phrases over one connection; build_synthesizer + the phrase cache end to end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from cuckoo.config import Config
from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts import PhraseCache, build_synthesizer
from cuckoo.speech.tts.espeak import EspeakEngine
from cuckoo.speech.tts.festival import FestivalEngine, FestivalServer, festival_available

needs_festival = pytest.mark.skipif(festival_available() is not None, reason="festival missing")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")

SHORT = "Здравствуйте."
LONG = "Здравствуйте! Ваши документы отправлены седьмого февраля, ждём вас завтра с десяти утра."


def rms(a: Audio) -> float:
    x = a.samples().astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def voiced_fraction(a: Audio) -> float:
    """Share of 20 ms frames clearly above silence: speech has many, a silent file none."""
    x = a.samples().astype(np.float64)
    n = a.rate // 50
    frames = x[: len(x) // n * n].reshape(-1, n)
    return float(np.mean(np.sqrt(np.mean(frames**2, axis=1)) > 300))


def assert_speech(a: Audio, min_s: float, max_s: float) -> None:
    assert min_s < a.duration_s < max_s, a.duration_s
    assert rms(a) > 500
    assert voiced_fraction(a) > 0.3


@pytest.fixture(scope="module")
def festival() -> FestivalEngine:
    if festival_available() is not None:
        pytest.skip(festival_available() or "")
    server = FestivalServer()
    engine = FestivalEngine(server=server)
    yield engine
    engine.close()
    server.stop()


@needs_festival
def test_festival_speaks_russian(festival: FestivalEngine) -> None:
    short = festival.render(SHORT, rate=8000)
    long = festival.render(LONG, rate=8000)
    assert short.rate == long.rate == 16000  # the clunits voice is recorded at 16 kHz
    assert_speech(short, 0.4, 3.0)
    assert_speech(long, 3.0, 15.0)
    assert long.duration_s > 3 * short.duration_s


@needs_festival
def test_festival_reads_cyrillic_as_utf8_not_as_bytes(festival: FestivalEngine) -> None:
    # If the voice read UTF-8 as single bytes, each Cyrillic letter would become two unknown
    # symbols and the word would come out silent or doubled. "да" is short; "документы" longer.
    da = festival.render("да", rate=8000)
    word = festival.render("документы", rate=8000)
    assert_speech(word, 0.5, 2.0)
    assert 0.2 < da.duration_s < word.duration_s


@needs_festival
@pytest.mark.parametrize(
    ("text", "phones"),
    [
        # UTF-8 Cyrillic is read as Russian letters: these are festvox-ru's Russian phones
        ("документы", ["pau", "d", "ay", "k", "u", "mm", "ee", "n", "t", "y", "pau"]),
        ("ёлка", ["pau", "j", "oo", "l", "k", "a", "pau"]),
        # the "+" stress mark moves the stress: zAmok vs zamOk
        ("з+амок", ["pau", "z", "aa", "m", "ay", "k", "pau"]),
        ("зам+ок", ["pau", "z", "a", "m", "oo", "k", "pau"]),
    ],
)
def test_festival_russian_phones(festival: FestivalEngine, text: str, phones: list[str]) -> None:
    assert festival.phones(text) == phones


@needs_festival
def test_festival_survives_symbols_it_cannot_read(festival: FestivalEngine) -> None:
    # ":" inside a token, guillemets, brackets and "№" abort a festvox-ru utterance if passed on.
    a = festival.render("Ждём вас с десяти: «Ромашка» (ООО) № пять — готово!", rate=8000)
    assert_speech(a, 1.5, 10.0)


@needs_festival
def children(pid: int) -> set[int]:
    """Festival processes whose parent is `pid`."""
    argv = ["pgrep", "-P", str(pid), "-x", "festival"]
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def test_festival_stays_warm_one_server_many_phrases() -> None:
    server = FestivalServer()
    engine = FestivalEngine(server=server)
    try:
        assert server._proc is not None
        (festival_pid,) = children(server._proc.pid)
        engine.render("первая фраза", rate=8000)
        serving = children(festival_pid)
        # one forked child for our connection (plus, briefly, the start-up probe's child)
        assert 1 <= len(serving) <= 2
        for i in range(5):
            assert engine.render(f"фраза номер {i}", rate=8000).duration_s > 0.5
        # The same forked child answered all five: no new process per phrase.
        after = children(festival_pid)
        assert after and after <= serving
    finally:
        engine.close()
        server.stop()


@needs_festival
def test_festival_reconnects_after_its_child_dies() -> None:
    server = FestivalServer()
    engine = FestivalEngine(server=server)
    try:
        assert engine.render("раз", rate=8000).duration_s > 0.2
        assert engine.idle_connections == 1
        # as if the forked child went away: the connection is dead
        engine._idle[0].sock.shutdown(socket.SHUT_RDWR)
        assert engine.render("два", rate=8000).duration_s > 0.2
        assert engine.idle_connections == 1
    finally:
        engine.close()
        server.stop()
    assert not server.alive()


@needs_festival
def test_festival_parallel_phrases_use_parallel_children(festival: FestivalEngine) -> None:
    texts = [f"параллельная фраза номер {i}" for i in range(4)]
    alone = [festival.render(t, rate=8000) for t in texts]
    together: dict[int, Audio] = {}

    def run(i: int) -> None:
        together[i] = festival.render(texts[i], rate=8000)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [together[i] for i in range(4)] == alone  # same audio, no mixed-up replies
    assert 1 <= festival.idle_connections <= 4


@needs_festival
def test_forked_child_does_not_share_the_parents_connections(festival: FestivalEngine) -> None:
    import os

    festival.render("до развилки", rate=8000)
    inherited = festival.idle_connections
    assert inherited >= 1
    pid = os.fork()
    if pid == 0:  # the child: must open its own connection and still speak
        code = 1
        try:
            ok = festival.render("после развилки", rate=8000).duration_s > 0.5
            code = 0 if ok and festival.idle_connections == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # the parent's connections still work (the child never wrote to them)
    assert festival.idle_connections == inherited
    assert festival.render("снова дома", rate=8000).duration_s > 0.5


@needs_festival
def test_fixed_port_is_shared_between_processes() -> None:
    first = FestivalServer()
    try:
        # a second worker configured with the same port attaches instead of starting another
        second = FestivalServer(port=first.port)
        assert second._proc is None and second.alive()
        a = FestivalEngine(server=second).render("да", rate=8000)
        assert a.duration_s > 0.2
        second.stop()  # not its server: nothing stops
        assert first.alive()
    finally:
        first.stop()


@needs_festival
def test_festival_start_failure_is_quick_and_clear() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))  # bound but not listening: festival cannot bind it
        with pytest.raises(TtsError, match="festival server exited at start"):
            FestivalServer(port=busy.getsockname()[1], timeout_s=20)


@needs_festival
def test_festival_tempo_changes_duration() -> None:
    server = FestivalServer()
    try:
        normal = FestivalEngine(server=server).render(LONG, rate=8000)
        slow = FestivalEngine(server=server, tempo=0.7).render(LONG, rate=8000)
    finally:
        server.stop()
    assert slow.duration_s == pytest.approx(normal.duration_s / 0.7, rel=0.05)


@needs_espeak
def test_espeak_speaks_russian() -> None:
    e = EspeakEngine()
    short = e.render(SHORT, rate=8000)
    long = e.render(LONG, rate=8000)
    assert short.rate == 22050
    assert_speech(short, 0.4, 3.0)
    assert_speech(long, 3.0, 15.0)
    assert long.duration_s > 3 * short.duration_s


@needs_espeak
def test_espeak_tempo_and_stress_marks() -> None:
    fast = EspeakEngine(tempo=1.5).render(LONG, rate=8000)
    slow = EspeakEngine(tempo=0.7).render(LONG, rate=8000)
    assert slow.duration_s > fast.duration_s * 1.5
    # "+" is a stress mark for Silero; espeak must not say "плюс".
    plain = EspeakEngine().render("замок", rate=8000)
    marked = EspeakEngine().render("зам+ок", rate=8000)
    assert abs(plain.duration_s - marked.duration_s) < 0.05


@needs_espeak
def test_espeak_text_with_leading_dash_is_text() -> None:
    a = EspeakEngine().render("-v en привет", rate=8000)
    assert a.duration_s > 0.5


def _config(tmp_path: Path, voices: Path | None = None, **speech: object) -> Config:
    return Config.model_validate(
        {
            "var_dir": tmp_path / "var",
            "models_dir": tmp_path / "models",
            "voices_dir": voices or (tmp_path / "voices"),
            "speech": speech,
        }
    )


@needs_espeak
def test_build_synthesizer_normalizes_resamples_and_caches(tmp_path: Path) -> None:
    synth = build_synthesizer(_config(tmp_path), "espeak-ru")
    first = synth.synthesize("Заказ 123 готов", rate=8000)
    assert first.rate == 8000 and first.duration_s > 1.0
    assert synth.misses == 1 and synth.hits == 0
    again = synth.synthesize("Заказ 123 готов", rate=8000)
    assert again == first and synth.hits == 1
    # another rate is another cache entry, produced by the engine
    wide = synth.synthesize("Заказ 123 готов", rate=16000)
    assert wide.rate == 16000 and synth.misses == 2
    assert abs(wide.duration_s - first.duration_s) < 0.01
    cache = PhraseCache(tmp_path / "var" / "cache" / "tts")
    assert cache.count() == 2
    # the engine got words, not digits (the normalizer's own tests check the words)
    spoken = synth.prepare("Заказ 123 готов")
    assert spoken.startswith("Заказ сто двадцать три")
    assert not any(ch.isdigit() for ch in spoken)


@needs_espeak
def test_cache_is_shared_between_processes_worth_of_synthesizers(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    a = build_synthesizer(cfg, "espeak-ru").synthesize("Добрый день")
    other = build_synthesizer(cfg, "espeak-ru")
    b = other.synthesize("Добрый день")
    assert a == b and other.hits == 1 and other.misses == 0


@needs_espeak
def test_profile_change_invalidates_cache(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "robot.toml").write_text('engine = "espeak"\nspeaker = "ru"\nvolume = 1.0\n')
    first = build_synthesizer(_config(tmp_path, voices), "robot")
    loud_before = first.synthesize("Добрый день")
    (voices / "robot.toml").write_text('engine = "espeak"\nspeaker = "ru"\nvolume = 0.5\n')
    second = build_synthesizer(_config(tmp_path, voices), "robot")
    quiet = second.synthesize("Добрый день")
    assert second.misses == 1
    assert rms(quiet) == pytest.approx(rms(loud_before) * 0.5, rel=0.02)


@needs_espeak
def test_lexicon_is_applied_before_normalize(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "lexicon.toml").write_text('[brands]\n"Wildberries" = "в+айлдберриз"\n')
    synth = build_synthesizer(_config(tmp_path, voices), "espeak-ru")
    assert synth.prepare("Заказ Wildberries 5") == "Заказ в+айлдберриз пять"


@needs_festival
def test_auto_voice_is_festival_without_silero_file_and_rhvoice(
    tmp_path: Path, caplog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cuckoo.speech.tts.synth.rhvoice_available", lambda *a, **k: "RHVoice not installed"
    )
    caplog.set_level("INFO")
    synth = build_synthesizer(_config(tmp_path))
    try:
        assert synth.profile.name == "festival-ru"
        assert "rhvoice-aleksandr: RHVoice not installed" in caplog.text
        assert "silero-v5-cis: model file" in caplog.text and "not present" in caplog.text
        assert_speech(synth.synthesize("Добрый день", rate=8000), 0.4, 3.0)
    finally:
        synth.close()
