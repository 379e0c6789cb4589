"""`cuckoo say`, `cuckoo voices list|prerender` as a user runs them (real engines, real files)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cuckoo.line.audio import Audio
from cuckoo.speech.tts import PhraseCache

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "lexicon.toml").write_text('[brands]\n"OZON" = "оз+он"\n')
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    (tmp_path / "cuckoo.toml").write_text(
        'voices_dir = "voices"\nscenarios_dir = "scenarios"\nvar_dir = "var"\n'
        'models_dir = "models"\n[speech]\nvoice = "espeak-ru"\n'
    )
    return tmp_path


def cuckoo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", str(home / "cuckoo.toml"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_normalize_only_prints_what_the_engine_reads(home: Path) -> None:
    r = cuckoo(home, "say", "--normalize-only", "Заказ OZON № 15 готов")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Заказ оз+он номер пятнадцать готов\n"


def test_say_writes_telephony_wav_and_caches(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    r = cuckoo(home, "say", "Добрый день, ваш заказ готов", "-o", str(out))
    assert r.returncode == 0, r.stderr
    audio = Audio.read_wav(out)
    assert audio.rate == 8000 and 1.0 < audio.duration_s < 6.0
    assert float(np.abs(audio.samples()).max()) > 3000
    assert "voice espeak-ru" in r.stderr and "synthesized in" in r.stderr
    again = cuckoo(home, "say", "Добрый день, ваш заказ готов", "-o", str(tmp_path / "2.wav"))
    assert "from cache" in again.stderr
    assert (tmp_path / "2.wav").read_bytes() == out.read_bytes()


@pytest.mark.skipif(shutil.which("festival") is None, reason="festival missing")
def test_say_with_festival_at_file_rate(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.wav"
    r = cuckoo(
        home, "say", "--voice", "festival-ru", "--rate", "16000", "Здравствуйте", "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    audio = Audio.read_wav(out)
    assert audio.rate == 16000 and audio.duration_s > 0.4


def test_say_native_rate(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "n.wav"
    r = cuckoo(home, "say", "--rate", "native", "Здравствуйте", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert Audio.read_wav(out).rate == 22050  # espeak-ng's own rate


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["say", "текст"], "give -o out.wav"),
        (["say", "--voice", "nobody", "текст", "-o", "x.wav"], "voice 'nobody' not found"),
        (["say", "--rate", "100", "текст", "-o", "x.wav"], "is not native or 4000-96000 Hz"),
        (["say", "--rate", "fast", "текст", "-o", "x.wav"], "is not native or 4000-96000 Hz"),
    ],
)
def test_say_errors(home: Path, args: list[str], message: str) -> None:
    r = cuckoo(home, *args)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_bad_voice_profile_names_the_file(home: Path) -> None:
    (home / "voices" / "broken.toml").write_text('engine = "sapi"\n')
    r = cuckoo(home, "voices", "list")
    assert r.returncode == 1
    assert "broken.toml" in r.stderr and "engine" in r.stderr


def test_voices_list(home: Path) -> None:
    (home / "voices" / "slow.toml").write_text('engine = "espeak"\nspeaker = "ru"\ntempo = 0.8\n')
    r = cuckoo(home, "voices", "list")
    assert r.returncode == 0, r.stderr
    for name in ("espeak-ru", "festival-ru", "silero-v4-ru", "silero-v5-cis", "slow"):
        assert name in r.stdout
    for name in ("rhvoice-aleksandr", "rhvoice-anna", "rhvoice-irina"):
        assert name in r.stdout
    assert "GPL-2.0+ voice data" in r.stdout
    assert "not for business use" in r.stdout  # silero v4_ru / v5_ru
    assert "not present" in r.stdout  # the Silero files
    assert "default: espeak-ru (set in [speech] voice)" in r.stderr  # a pipe: a note, not a row
    assert "*\tespeak-ru\tespeak\t" in r.stdout


def test_voices_prerender_fills_the_cache(home: Path) -> None:
    from cuckoo.dialog import static_phrases

    phrases = static_phrases(home / "scenarios")
    assert phrases
    r = cuckoo(home, "voices", "prerender")
    assert r.returncode == 0, r.stderr
    assert f"{len(phrases)} phrases for voice espeak-ru at 8000 Hz" in r.stdout
    assert PhraseCache(home / "var" / "cache" / "tts").count() == len(phrases)
    again = cuckoo(home, "voices", "prerender")
    assert f"0 synthesized, {len(phrases)} already cached" in again.stdout
