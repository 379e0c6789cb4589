"""Pure TTS logic: text clean-up per engine, sentence splitting, voice profiles and the
automatic voice choice, the phrase cache."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cuckoo.config import Config
from cuckoo.errors import ConfigError, TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts import choose_voice
from cuckoo.speech.tts.base import apply_volume, concat, split_sentences, strip_stress
from cuckoo.speech.tts.cache import PhraseCache, cache_key
from cuckoo.speech.tts.festival import festival_text
from cuckoo.speech.tts.profiles import BUILTIN, VoiceProfile, load_profile, load_profiles
from cuckoo.speech.tts.silero import _prosody_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("зам+ок", "замок"),
        ("Иван+ов и Петр+ова", "Иванов и Петрова"),
        ("2+2", "2+2"),  # not before a vowel: not a stress mark
        ("в+айлдберриз", "вайлдберриз"),
        ("+", "+"),
    ],
)
def test_strip_stress(text: str, expected: str) -> None:
    assert strip_stress(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Здравствуйте!", "Здравствуйте!"),
        ("с десяти: до восемнадцати", "с десяти, до восемнадцати"),
        ("«Ромашка» (ООО)", "Ромашка ООО"),
        ('скажите "да"', "скажите да"),
        ("путь\\к", "путь к"),
        ("вот — так – вот", "вот, так, вот"),
        ("зам+ок, о'кей; да?", "зам+ок, о'кей; да?"),
        ("snake_case № 5 %", "snake case 5"),
        ("  много   пробелов ", "много пробелов"),
    ],
)
def test_festival_text(text: str, expected: str) -> None:
    assert festival_text(text) == expected


def test_split_sentences_keeps_short_texts_whole() -> None:
    assert split_sentences("Да. Нет! Может быть?", 100) == ["Да. Нет! Может быть?"]
    assert split_sentences("", 100) == []


def test_split_sentences_cuts_between_sentences() -> None:
    text = "Первое предложение. Второе предложение! Третье предложение?"
    assert split_sentences(text, 30) == [
        "Первое предложение.",
        "Второе предложение!",
        "Третье предложение?",
    ]
    assert split_sentences(text, 45) == [
        "Первое предложение. Второе предложение!",
        "Третье предложение?",
    ]


@pytest.mark.parametrize("limit", [10, 25, 50, 120])
def test_split_sentences_never_exceeds_the_limit_and_loses_nothing(limit: int) -> None:
    text = (
        "Очень длинное предложение без точек, но с запятыми, которое идёт и идёт, "
        "и не думает кончаться, пока не кончится. Короткое. "
        "Сверхдлинноесловобезпробеловкотороепридётсярезать."
    )
    pieces = split_sentences(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("tempo", "rate"),
    [(0.5, "x-slow"), (0.8, "slow"), (1.0, ""), (1.05, ""), (1.2, "fast"), (1.5, "x-fast")],
)
def test_silero_tempo_as_ssml_prosody(tempo: float, rate: str) -> None:
    assert _prosody_rate(tempo) == rate


def test_volume_and_concat() -> None:
    a = Audio.from_samples(__import__("numpy").array([1000, -1000, 30000]), 8000)
    assert list(apply_volume(a, 0.5).samples()) == [500, -500, 15000]
    assert list(apply_volume(a, 2.0).samples()) == [2000, -2000, 32767]  # clipped
    assert apply_volume(a, 1.0) is a
    joined = concat([a, a], 8000, gap_s=0.001)
    assert joined.duration_s == pytest.approx((3 + 8 + 3) / 8000)


# ---- profiles ---------------------------------------------------------------------------------


def test_builtin_profiles_cover_every_engine() -> None:
    assert {p.engine for p in BUILTIN.values()} == {"silero", "rhvoice", "festival", "espeak"}
    assert BUILTIN["silero-v5-cis"].license == "MIT"
    assert "NC" in BUILTIN["silero-v4-ru"].license
    assert BUILTIN["silero-v4-ru"].non_commercial and BUILTIN["silero-v5-ru"].non_commercial
    assert not BUILTIN["silero-v5-cis"].non_commercial
    for name in ("rhvoice-aleksandr", "rhvoice-anna", "rhvoice-irina"):
        assert "GPL" in BUILTIN[name].license and not BUILTIN[name].non_commercial
    assert BUILTIN["rhvoice-anna"].tempo == pytest.approx(0.9)


def test_shipped_rhvoice_profiles_match_the_builtins() -> None:
    shipped = load_profiles(Path(__file__).resolve().parents[2] / "voices")
    for name in ("rhvoice-aleksandr", "rhvoice-anna", "rhvoice-irina"):
        assert shipped[name].fingerprint() == BUILTIN[name].fingerprint()
        assert shipped[name].license == BUILTIN[name].license


def test_profile_file_overrides_builtin_and_lexicon_is_not_a_profile(tmp_path: Path) -> None:
    (tmp_path / "espeak-ru.toml").write_text('engine = "espeak"\nspeaker = "ru"\npitch = 30\n')
    (tmp_path / "lexicon.toml").write_text('[x]\n"a" = "b"\n')
    (tmp_path / "anna.toml").write_text('engine = "silero"\nspeaker = "baya"\nmodel = "m.pt"\n')
    profiles = load_profiles(tmp_path)
    assert profiles["espeak-ru"].pitch == 30
    assert profiles["anna"].speaker == "baya" and profiles["anna"].name == "anna"
    assert "lexicon" not in profiles


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('engine = "sapi"\n', "engine"),
        ('engine = "espeak"\ncolour = "red"\n', "colour: Extra inputs are not permitted"),
        ('engine = "espeak"\ntempo = 0\n', "tempo"),
        ('engine = "espeak"\nvolume = -1\n', "volume"),
        ("engine = \n", "not valid TOML"),
        ('speaker = "ru"\n', "engine: Field required"),
    ],
)
def test_bad_profile_names_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_fingerprint_tracks_sound_not_description() -> None:
    a = VoiceProfile(name="v", engine="espeak", description="one")
    b = VoiceProfile(name="v", engine="espeak", description="two")
    c = VoiceProfile(name="v", engine="espeak", tempo=1.1)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


# ---- the voice choice ---------------------------------------------------------------------------


def cfg(tmp_path: Path, voice: str = "") -> Config:
    return Config.model_validate(
        {"models_dir": tmp_path / "models", "voices_dir": tmp_path, "speech": {"voice": voice}}
    )


@pytest.fixture
def engines_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """RHVoice and Festival installed (./dev installs both): the choice depends on files only."""
    monkeypatch.setattr("cuckoo.speech.tts.synth.rhvoice_available", lambda *a, **k: None)
    monkeypatch.setattr("cuckoo.speech.tts.synth.festival_available", lambda: None)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ([], "rhvoice-aleksandr"),
        (["silero/v5_cis_base.pt"], "silero-v5-cis"),
        # The non-commercial models are never chosen automatically, even when present.
        (["silero/v4_ru.pt"], "rhvoice-aleksandr"),
        (["silero/v4_ru.pt", "silero/v5_ru.pt"], "rhvoice-aleksandr"),
        (["silero/v5_ru.pt", "silero/v5_cis_base.pt"], "silero-v5-cis"),
    ],
)
@pytest.mark.usefixtures("engines_installed")
def test_auto_choice_order_silero_mit_then_rhvoice(
    tmp_path: Path, present: list[str], expected: str
) -> None:
    for rel in present:
        (tmp_path / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "models" / rel).write_bytes(b"x")
    profile, why = choose_voice(cfg(tmp_path), load_profiles(tmp_path), None)
    assert profile.name == expected
    assert why.startswith("automatic choice")
    if "silero/v4_ru.pt" in present:
        assert "silero-v4-ru: licence CC BY-NC 4.0 (non-commercial): not chosen" in why


@pytest.mark.usefixtures("engines_installed")
def test_non_commercial_voice_by_name(tmp_path: Path) -> None:
    p, why = choose_voice(cfg(tmp_path, "silero-v4-ru"), load_profiles(tmp_path), None)
    assert (p.name, why) == ("silero-v4-ru", "set in [speech] voice")


def test_auto_choice_without_rhvoice_is_festival(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cuckoo.speech.tts.synth.rhvoice_available", lambda *a, **k: "RHVoice library missing"
    )
    monkeypatch.setattr("cuckoo.speech.tts.synth.festival_available", lambda: None)
    profile, why = choose_voice(cfg(tmp_path), load_profiles(tmp_path), None)
    assert profile.name == "festival-ru"
    assert "rhvoice-aleksandr: RHVoice library missing" in why


def test_auto_choice_falls_back_to_espeak_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cuckoo.speech.tts.synth.rhvoice_available", lambda *a, **k: "RHVoice library missing"
    )
    monkeypatch.setattr(
        "cuckoo.speech.tts.synth.festival_available", lambda: "festival is not installed"
    )
    profile, why = choose_voice(cfg(tmp_path), load_profiles(tmp_path), None)
    assert profile.name == "espeak-ru"
    assert "festival-ru: festival is not installed" in why
    assert "rhvoice-aleksandr: RHVoice library missing" in why
    assert "silero-v4-ru: model file" in why
    assert "cuckoo models download silero-v5-cis" in why  # each file names its own download


def test_no_voice_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cuckoo.speech.tts.synth.rhvoice_available", lambda *a, **k: "no rhv")
    monkeypatch.setattr("cuckoo.speech.tts.synth.festival_available", lambda: "no festival")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(TtsError, match="no voice can speak here"):
        choose_voice(cfg(tmp_path), load_profiles(tmp_path), None)


def test_explicit_and_configured_voice(tmp_path: Path) -> None:
    profiles = load_profiles(tmp_path)
    assert choose_voice(cfg(tmp_path, "espeak-ru"), profiles, None)[1] == "set in [speech] voice"
    p, why = choose_voice(cfg(tmp_path, "espeak-ru"), profiles, "festival-ru")
    assert (p.name, why) == ("festival-ru", "chosen with --voice")
    with pytest.raises(ConfigError, match=r"voice 'nobody' not found .*\(known: espeak-ru"):
        choose_voice(cfg(tmp_path), profiles, "nobody")


# ---- cache ------------------------------------------------------------------------------------


def test_cache_key_depends_on_every_part() -> None:
    base = cache_key("silero", "xenia", "да", 8000)
    assert base == cache_key("silero", "xenia", "да", 8000)
    others = {
        cache_key("festival", "xenia", "да", 8000),
        cache_key("silero", "baya", "да", 8000),
        cache_key("silero", "xenia", "да.", 8000),
        cache_key("silero", "xenia", "да", 16000),
    }
    assert base not in others and len(others) == 4


def test_phrase_cache_roundtrip_and_garbage(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    key = cache_key("e", "v", "t", 8000)
    assert cache.get(key) is None and key not in cache
    audio = Audio(b"\x01\x00\xff\x7f" * 100, 8000)
    cache.put(key, audio)
    assert cache.get(key) == audio and key in cache and cache.count() == 1
    cache._path(key).write_bytes(b"junk")  # a foreign or truncated file is a miss
    assert cache.get(key) is None


def test_phrase_cache_prune_removes_the_oldest(tmp_path: Path) -> None:
    import os

    cache = PhraseCache(tmp_path)
    keys = [cache_key("e", "v", str(i), 8000) for i in range(5)]
    for age, key in enumerate(keys):
        cache.put(key, Audio(b"\x00\x00" * 500, 8000))  # 1000 bytes + 8 header
        os.utime(cache._path(key), (1000 + age, 1000 + age))
    assert cache.prune(10_000) == 0 and cache.count() == 5
    assert cache.get(keys[0]) is not None  # a hit makes the oldest the most recently used
    assert cache.prune(3 * 1008) == 2
    assert [k in cache for k in keys] == [True, False, False, True, True]
    assert cache.prune(0) == 3 and cache.count() == 0
    assert PhraseCache(tmp_path / "missing").prune(0) == 0


def test_phrase_cache_concurrent_writers_leave_a_whole_file(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    key = cache_key("e", "v", "t", 8000)
    versions = [Audio(bytes([i]) * 20000, 8000) for i in range(8)]
    threads = [threading.Thread(target=cache.put, args=(key, a)) for a in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get(key) in versions
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


# ---- VoiceSynthesizer mechanics (a tone engine stands in: the real engines are proven in
# ---- tests/integration/test_tts_engines.py) -------------------------------------------------


class ToneEngine:
    name = "tone"
    native_rate = 16000

    def __init__(self) -> None:
        self.texts: list[str] = []

    def render(self, text: str, *, rate: int) -> Audio:
        import numpy as np

        self.texts.append(text)
        n = 16000 * len(text) // 100  # 10 ms per character at the engine's own 16 kHz
        t = np.arange(n) / 16000
        return Audio.from_samples(10000 * np.sin(2 * np.pi * 300 * t), 16000)

    def close(self) -> None:
        pass


def test_synthesizer_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cuckoo.speech.lexicon import Lexicon
    from cuckoo.speech.tts import VoiceSynthesizer
    from cuckoo.speech.tts import synth as synth_mod

    monkeypatch.setattr(synth_mod, "PREPARED_MAX", 3)
    lex_file = tmp_path / "lex.toml"
    lex_file.write_text('[b]\n"OZON" = "оз+он"\n')
    engine = ToneEngine()
    profile = VoiceProfile(name="t", engine="espeak", volume=0.5)
    s = VoiceSynthesizer(
        engine, profile, lexicon=Lexicon.load(lex_file), cache=PhraseCache(tmp_path)
    )
    a = s.synthesize("OZON 5", rate=8000)
    assert engine.texts == ["оз+он пять"]
    assert a.rate == 8000 and a.duration_s == pytest.approx(0.10, abs=0.002)
    assert 4500 < int(abs(a.samples()).max()) <= 5000  # volume 0.5
    assert s.synthesize("OZON 5", rate=8000) == a and len(engine.texts) == 1
    s.synthesize("OZON 5", rate=16000)
    assert len(engine.texts) == 2 and s.misses == 2 and s.hits == 1
    for i in range(10):
        s.prepare(f"фраза {i}")
    assert len(s._prepared) == 3  # bounded memo
