"""RHVoice 1.14 (libRHVoice.so.5) in-process, through ctypes: no process per phrase.

Install (Debian 12: bookworm-backports, non-free; Debian 13: non-free):
    apt-get install -t bookworm-backports librhvoice5 rhvoice-russian

The binding is written against RHVoice.h (librhvoice-dev, needed only to read it): one
`RHVoice_tts_engine` per process (`RHVoice_new_tts_engine` with our callbacks), one
`RHVoice_message` per sentence (`RHVoice_new_message` + `RHVoice_speak`); the library calls
`set_sample_rate` once and then `play_speech` with 16-bit samples as it synthesizes, so the
first audio of a sentence exists a few milliseconds after `RHVoice_speak` starts.

Voices and licences: aleksandr, anna, irina (GPL-2+ data), elena (GPL-3) are free. The "RHVoice
Lab" voices (arina, artemiy, evgeniy, mikhail, pavel, tatiana, timofey, umka, victoria, vitaliy,
vsevolod, yuriy) are CC BY-NC-ND: cuckoo ships no profile for them and warns when one is used.

Stress: by default RHVoice reads "+" as a word break («з+амок» = «з амок»). The Russian language
setting `stress_marker` makes "+" before a vowel the stress mark, the same convention as our
lexicon, so the engine is started with a private RHVoice.conf that sets it (and nothing else:
the machine's /etc/RHVoice/RHVoice.conf must not change how a call sounds).
"""

from __future__ import annotations

import ctypes
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts.base import split_sentences

log = logging.getLogger(__name__)

LIBRARY = "libRHVoice.so.5"
DATA_PATH = Path("/usr/share/RHVoice")
INSTALL_HINT = "apt-get install -t bookworm-backports librhvoice5 rhvoice-russian"
DEFAULT_VOICE = "Aleksandr"
MAX_CHARS = 600  # a longer sentence is cut at commas: pieces stay short, the first one early
CONFIG = "languages.Russian.stress_marker=+\n"

# CC BY-NC-ND voice data from RHVoice Lab: never a default, warned about when named.
LAB_VOICES = frozenset(
    [
        "arina",
        "artemiy",
        "evgeniy",
        "evgeniy-rus",
        "evgeniy-eng",
        "mikhail",
        "pavel",
        "tatiana",
        "timofey",
        "umka",
        "victoria",
        "vitaliy",
        "vitaliy-ng",
        "vsevolod",
        "yuriy",
    ]
)

# ---- the C API (RHVoice.h), declared by hand -------------------------------------------------

_SetSampleRate = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_PlaySpeech = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p
)


class _Callbacks(ctypes.Structure):
    # The optional callbacks are unused: NULL pointers, as the header asks.
    _fields_ = [
        ("set_sample_rate", _SetSampleRate),
        ("play_speech", _PlaySpeech),
        ("process_mark", ctypes.c_void_p),
        ("word_starts", ctypes.c_void_p),
        ("word_ends", ctypes.c_void_p),
        ("sentence_starts", ctypes.c_void_p),
        ("sentence_ends", ctypes.c_void_p),
        ("play_audio", ctypes.c_void_p),
        ("done", ctypes.c_void_p),
    ]


class _InitParams(ctypes.Structure):
    _fields_ = [
        ("data_path", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("resource_paths", ctypes.POINTER(ctypes.c_char_p)),
        ("callbacks", _Callbacks),
        ("options", ctypes.c_uint),
    ]


class _SynthParams(ctypes.Structure):
    _fields_ = [
        ("voice_profile", ctypes.c_char_p),
        ("absolute_rate", ctypes.c_double),  # -1..1, 0 = the voice's default
        ("absolute_pitch", ctypes.c_double),
        ("absolute_volume", ctypes.c_double),
        ("relative_rate", ctypes.c_double),  # multipliers, 1 = unchanged
        ("relative_pitch", ctypes.c_double),
        ("relative_volume", ctypes.c_double),
        ("punctuation_mode", ctypes.c_int),  # RHVoice_punctuation_default
        ("punctuation_list", ctypes.c_char_p),
        ("capitals_mode", ctypes.c_int),  # RHVoice_capitals_default
        ("flags", ctypes.c_int),
    ]


_MESSAGE_TEXT = 0  # RHVoice_message_text


def _declare(lib: ctypes.CDLL) -> None:
    lib.RHVoice_get_version.restype = ctypes.c_char_p
    lib.RHVoice_get_version.argtypes = []
    lib.RHVoice_new_tts_engine.restype = ctypes.c_void_p
    lib.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(_InitParams)]
    lib.RHVoice_delete_tts_engine.restype = None
    lib.RHVoice_delete_tts_engine.argtypes = [ctypes.c_void_p]
    lib.RHVoice_get_number_of_voice_profiles.restype = ctypes.c_uint
    lib.RHVoice_get_number_of_voice_profiles.argtypes = [ctypes.c_void_p]
    lib.RHVoice_get_voice_profiles.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.RHVoice_get_voice_profiles.argtypes = [ctypes.c_void_p]
    lib.RHVoice_new_message.restype = ctypes.c_void_p
    lib.RHVoice_new_message.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.POINTER(_SynthParams),
        ctypes.c_void_p,
    ]
    lib.RHVoice_delete_message.restype = None
    lib.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
    lib.RHVoice_speak.restype = ctypes.c_int
    lib.RHVoice_speak.argtypes = [ctypes.c_void_p]


def _load_library(library: str) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(library)
        _declare(lib)
    except (OSError, AttributeError) as e:
        raise TtsError(f"RHVoice library {library} cannot be loaded ({e}); {INSTALL_HINT}") from e
    return lib


def rhvoice_available(
    voice: str = DEFAULT_VOICE, *, library: str = LIBRARY, data_path: Path = DATA_PATH
) -> str | None:
    """None if RHVoice can speak `voice` here, else why not (no engine is started)."""
    try:
        _load_library(library)
    except TtsError as e:
        return str(e)
    if not (data_path / "languages" / "Russian").is_dir():
        return f"RHVoice Russian data missing in {data_path} ({INSTALL_HINT})"
    if not (data_path / "voices" / voice.lower()).is_dir():
        return f"RHVoice voice {voice!r} missing in {data_path}/voices ({INSTALL_HINT})"
    return None


# ---- one native engine per process ------------------------------------------------------------


class _Native:
    """The process's RHVoice engine. `speak` is serialized: the library keeps per-engine state
    and its thread safety is not documented, and at RTF ≈ 0.02 the wait is milliseconds."""

    def __init__(self, library: str, data_path: Path) -> None:
        self.lib = _load_library(library)
        self.version = (self.lib.RHVoice_get_version() or b"?").decode()
        self.lock = threading.Lock()
        self.rate = 0
        self._sink: Callable[[bytes], bool] | None = None
        # ctypes callback objects must stay referenced as long as the engine lives.
        self._cb_rate = _SetSampleRate(self._on_rate)
        self._cb_play = _PlaySpeech(self._on_speech)
        with tempfile.TemporaryDirectory(prefix="cuckoo-rhvoice-") as cfg:
            # The configuration is read while the engine is built; the folder can go after.
            (Path(cfg) / "RHVoice.conf").write_text(CONFIG, encoding="utf-8")
            params = _InitParams(
                str(data_path).encode(),
                cfg.encode(),
                None,
                _Callbacks(self._cb_rate, self._cb_play),
                0,
            )
            handle = self.lib.RHVoice_new_tts_engine(ctypes.byref(params))
        if not handle:
            raise TtsError(f"RHVoice could not start with the data in {data_path} ({INSTALL_HINT})")
        self.handle: int = handle
        n = self.lib.RHVoice_get_number_of_voice_profiles(handle)
        names = self.lib.RHVoice_get_voice_profiles(handle)
        self.profiles = [names[i].decode() for i in range(n)]
        log.info("RHVoice %s: %d voice profiles in %s", self.version, n, data_path)

    def _on_rate(self, rate: int, _user: object) -> int:
        self.rate = rate
        return 1

    def _on_speech(self, samples: Any, count: int, _user: object) -> int:
        sink = self._sink
        if sink is None:
            return 0
        # Returning 0 stops the synthesis (the sink says the listener is gone).
        return 1 if sink(ctypes.string_at(samples, count * 2)) else 0

    def profile_name(self, voice: str) -> str | None:
        """The library's spelling of `voice` ("aleksandr" → "Aleksandr"), None if unknown."""
        return next((p for p in self.profiles if p.lower() == voice.lower()), None)

    def speak(self, text: str, params: _SynthParams, sink: Callable[[bytes], bool]) -> int:
        """Synthesize one piece, handing samples to `sink` as they come; the sample rate."""
        data = text.encode("utf-8")
        with self.lock:
            message = self.lib.RHVoice_new_message(
                self.handle, data, len(data), _MESSAGE_TEXT, ctypes.byref(params), None
            )
            if not message:
                raise TtsError(f"RHVoice refused the text {text[:60]!r}")
            self._sink = sink
            try:
                ok = self.lib.RHVoice_speak(message)
            finally:
                self._sink = None
                self.lib.RHVoice_delete_message(message)
            if not ok:
                raise TtsError(f"RHVoice failed on {text[:60]!r}")
            return self.rate


_natives: dict[tuple[str, Path, int], _Native] = {}
_natives_lock = threading.Lock()


def shared_native(library: str = LIBRARY, data_path: Path = DATA_PATH) -> _Native:
    """One engine per (library, data folder) per process (a forked child builds its own)."""
    key = (library, Path(data_path), os.getpid())
    with _natives_lock:
        native = _natives.get(key)
        if native is None:
            native = _Native(library, Path(data_path))
            _natives[key] = native
        return native


class RHVoiceEngine:
    """Thread-safe: threads share the process's RHVoice engine, one sentence at a time, so a long
    text in one call does not hold the others back for more than a sentence."""

    name = "rhvoice"
    native_rate = 24000  # aleksandr, anna, irina, elena

    def __init__(
        self,
        *,
        voice: str = DEFAULT_VOICE,
        tempo: float = 1.0,
        pitch: int = 50,
        library: str = LIBRARY,
        data_path: Path = DATA_PATH,
    ) -> None:
        self._native = shared_native(library, data_path)
        profile = self._native.profile_name(voice)
        if profile is None:
            raise TtsError(
                f"RHVoice voice {voice!r} is not installed in {data_path} "
                f"(have: {', '.join(self._native.profiles) or 'none'}; {INSTALL_HINT})"
            )
        if profile.lower() in LAB_VOICES:
            log.warning("RHVoice voice %s is CC BY-NC-ND (RHVoice Lab): not for business", profile)
        self.voice = profile
        # Keep the encoded name alive: the struct holds a raw pointer to it.
        self._voice_bytes = profile.encode()
        self._params = _SynthParams(
            self._voice_bytes,
            0.0,
            max(-1.0, min(1.0, (pitch - 50) / 50)),  # our 0-99 scale, 50 = the voice's own
            0.0,
            tempo,  # relative_rate: 0.9 ≈ 10 % longer
            1.0,
            1.0,
            0,
            None,
            0,
            0,
        )

    def stream(self, text: str, *, stop: Callable[[], bool] | None = None) -> Iterator[Audio]:
        """The speech of `text` piece by piece at the native rate, first sentence first: each
        piece is yielded as soon as it is synthesized. `stop()` is asked before each piece and
        after each chunk of samples the library hands over; True ends the speech there."""
        for piece in split_sentences(text, MAX_CHARS, merge=False):
            if stop is not None and stop():
                return
            chunks: list[bytes] = []

            def sink(pcm: bytes, chunks: list[bytes] = chunks) -> bool:
                chunks.append(pcm)
                return stop is None or not stop()

            try:
                rate = self._native.speak(piece, self._params, sink)
            except TtsError:
                if stop is not None and stop():
                    return  # the library may report the speech we cut off as a failure
                raise
            yield Audio(b"".join(chunks), rate or self.native_rate)

    def render(self, text: str, *, rate: int) -> Audio:
        parts = list(self.stream(text))
        if not parts:
            return Audio(b"", rate)
        return Audio(b"".join(p.pcm for p in parts), parts[0].rate)

    def close(self) -> None:
        pass  # the native engine is shared by the process and lives as long as it does
