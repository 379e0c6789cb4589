"""The Synthesizer the rest of cuckoo uses: lexicon → normalize → stress marks → cache → engine
→ resample."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from cuckoo.config import Config
from cuckoo.errors import ConfigError, TtsError
from cuckoo.line.audio import Audio, StreamResampler
from cuckoo.speech.lexicon import Lexicon
from cuckoo.speech.normalize import normalize
from cuckoo.speech.stress import SileroStress, stress_available
from cuckoo.speech.tts.base import Engine, StreamingEngine, apply_volume
from cuckoo.speech.tts.cache import PhraseCache, cache_key
from cuckoo.speech.tts.espeak import EspeakEngine
from cuckoo.speech.tts.festival import DEFAULT_VOICE, FestivalEngine, festival_available
from cuckoo.speech.tts.profiles import AUTO_ORDER, BUILTIN, VoiceProfile, load_profiles
from cuckoo.speech.tts.rhvoice import DATA_PATH, RHVoiceEngine, rhvoice_available
from cuckoo.speech.tts.silero import SileroEngine, download_hint

log = logging.getLogger(__name__)

PREPARED_MAX = 4096  # memoized texts per synthesizer


class VoiceSynthesizer:
    """Implements cuckoo.line.speech.Synthesizer for one voice profile."""

    def __init__(
        self,
        engine: Engine,
        profile: VoiceProfile,
        *,
        lexicon: Lexicon | None = None,
        cache: PhraseCache | None = None,
        stress: Callable[[str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.profile = profile
        self.lexicon = lexicon or Lexicon.empty()
        self.cache = cache
        self.stress = stress  # cuckoo.speech.stress.SileroStress, or None: the voice's own
        self._voice_id = f"{profile.name}:{profile.fingerprint()}"
        self.hits = 0
        self.misses = 0
        self._prepared: dict[str, str] = {}
        self._prepared_lock = threading.Lock()

    def prepare(self, text: str) -> str:
        """What the engine will actually read: lexicon first (brands, stress), then numbers,
        dates and abbreviations as words, then the stress marks the profile asks for (names,
        homographs: cuckoo.speech.stress). Memoized: prompts repeat, and a cache hit should
        cost a file read, not a morphological analysis."""
        spoken = self._prepared.get(text)
        if spoken is None:
            spoken = normalize(self.lexicon.apply(text))
            if self.stress is not None:
                spoken = self.stress(spoken)
            with self._prepared_lock:  # calls may share one synthesizer across threads
                if len(self._prepared) >= PREPARED_MAX:
                    self._prepared.pop(next(iter(self._prepared)))  # oldest first
                self._prepared[text] = spoken
        return spoken

    def key(self, text: str, rate: int) -> str:
        return cache_key(self.engine.name, self._voice_id, self.prepare(text), rate)

    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        if isinstance(self.engine, StreamingEngine):
            # The streamed pieces joined: the same samples as a call hears, one cache entry.
            parts = list(self._streamed(text, rate, None))
            if len(parts) == 1:
                return parts[0]
            return Audio(b"".join(p.pcm for p in parts), rate)
        spoken = self.prepare(text)
        key = cache_key(self.engine.name, self._voice_id, spoken, rate)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.hits += 1
                return hit
        self.misses += 1
        audio = self.engine.render(spoken, rate=rate)
        if audio.rate != rate:
            audio = audio.resample(rate)
        audio = apply_volume(audio, self.profile.volume)
        self._store(key, audio)
        return audio

    def stream(
        self, text: str, *, rate: int = 8000, stop: Callable[[], bool] | None = None
    ) -> Iterator[Audio]:
        """cuckoo.line.speech.StreamingSynthesizer: a cached phrase at once; else, from an
        engine that streams (RHVoice), each sentence as soon as it is synthesized, the phrase
        cached once its last sentence is made; from any other engine, `synthesize`'s whole
        phrase. `stop()` True (a barge-in, a hang-up) ends the synthesis, and nothing is
        cached: the phrase would be cut short."""
        if not isinstance(self.engine, StreamingEngine):
            yield self.synthesize(text, rate=rate)
            return
        yield from self._streamed(text, rate, stop)

    def _streamed(self, text: str, rate: int, stop: Callable[[], bool] | None) -> Iterator[Audio]:
        assert isinstance(self.engine, StreamingEngine)
        spoken = self.prepare(text)
        key = cache_key(self.engine.name, self._voice_id, spoken, rate)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.hits += 1
                yield hit
                return
        self.misses += 1
        made: list[bytes] = []
        resampler: StreamResampler | None = None
        for piece in self.engine.stream(spoken, stop=stop):
            if stop is not None and stop():
                return  # this piece may have been cut mid-word: never cache it
            if resampler is None:
                resampler = StreamResampler(piece.rate, rate)
            out = apply_volume(resampler.feed(piece), self.profile.volume)
            if out.pcm:
                made.append(out.pcm)
                yield out
        if resampler is None or (stop is not None and stop()):
            return  # nothing to say (an empty text), or stopped between sentences: not cached
        tail = apply_volume(resampler.flush(), self.profile.volume)
        made.append(tail.pcm)
        # Complete: cached before the tail is handed over, so a caller that stops listening
        # now (the call ended as its last words played) still leaves the phrase cached.
        self._store(key, Audio(b"".join(made), rate))
        if tail.pcm:
            yield tail

    def _store(self, key: str, audio: Audio) -> None:
        if self.cache is not None and audio.pcm:
            self.cache.put(key, audio)

    def close(self) -> None:
        self.engine.close()


def silero_model_path(config: Config, profile: VoiceProfile) -> Path:
    p = Path(profile.model)
    return p if p.is_absolute() else config.path(config.models_dir) / p


def rhvoice_data_path(config: Config, profile: VoiceProfile) -> Path:
    if not profile.model:
        return DATA_PATH
    p = Path(profile.model)
    return p if p.is_absolute() else config.path(config.models_dir) / p


def unavailable_reason(config: Config, profile: VoiceProfile) -> str | None:
    """None if the profile's engine can run here, else why not (for auto choice and listing)."""
    if profile.engine == "silero":
        if not profile.model:
            return "no model file configured"
        path = silero_model_path(config, profile)
        if not path.is_file():
            return f"model file {path} not present ({download_hint(path)})"
        try:
            import torch  # noqa: F401  (torch takes seconds to import: only for a Silero voice)
        except ImportError:
            return "torch is not installed (pip install 'cuckoo[silero]')"
        return None
    if profile.engine == "rhvoice":
        return rhvoice_available(
            profile.speaker or "aleksandr", data_path=rhvoice_data_path(config, profile)
        )
    if profile.engine == "festival":
        return festival_available()
    return None if shutil.which("espeak-ng") else "espeak-ng is not installed"


def make_engine(config: Config, profile: VoiceProfile) -> Engine:
    if profile.engine == "silero":
        return SileroEngine(
            silero_model_path(config, profile),
            speaker=profile.speaker,
            sample_rate=profile.sample_rate,
            threads=config.speech.torch_threads,
            put_accent=profile.put_accent,
            put_yo=profile.put_yo,
            tempo=profile.tempo,
        )
    if profile.engine == "rhvoice":
        return RHVoiceEngine(
            voice=profile.speaker or "aleksandr",
            tempo=profile.tempo,
            pitch=profile.pitch,
            data_path=rhvoice_data_path(config, profile),
        )
    if profile.engine == "festival":
        return FestivalEngine(
            voice=profile.speaker or DEFAULT_VOICE,
            tempo=profile.tempo,
            port=config.speech.festival_port,
            timeout_s=config.speech.festival_timeout_s,
        )

    return EspeakEngine(voice=profile.speaker or "ru", tempo=profile.tempo, pitch=profile.pitch)


def choose_voice(
    config: Config, profiles: dict[str, VoiceProfile], voice: str | None
) -> tuple[VoiceProfile, str]:
    """(profile, why) — the explicit voice, else [speech] voice, else the automatic order."""
    name = voice or config.speech.voice
    if name:
        if name not in profiles:
            raise ConfigError(
                f"voice {name!r} not found in {config.path(config.voices_dir)} "
                f"(known: {', '.join(sorted(profiles))})"
            )
        why = "chosen with --voice" if voice else "set in [speech] voice"
        return profiles[name], why
    skipped: list[str] = []
    for candidate in AUTO_ORDER:
        profile = profiles.get(candidate)
        if profile is None:
            continue
        reason = unavailable_reason(config, profile)
        if reason is None and profile.non_commercial:
            # A robot calling a company's customers is commercial use: only by name.
            reason = f"licence {profile.license}: not chosen automatically, set [speech] voice"
        if reason is None:
            why = "automatic choice" + (f" ({'; '.join(skipped)})" if skipped else "")
            return profile, why
        skipped.append(f"{candidate}: {reason}")
    raise TtsError("no voice can speak here: " + "; ".join(skipped))


def load_lexicon(config: Config, profile: VoiceProfile) -> Lexicon:
    if not profile.lexicon:
        return Lexicon.empty()
    path = config.path(config.voices_dir) / profile.lexicon
    if not path.is_file():
        log.warning("voice %s: lexicon %s not found; speaking without one", profile.name, path)
        return Lexicon.empty()
    return Lexicon.load(path)


def build_synthesizer(config: Config, voice: str | None = None) -> VoiceSynthesizer:
    """The synthesizer for `voice` (a profile name), else the configured or automatic voice."""
    profiles = load_profiles(config.path(config.voices_dir))
    profile, why = choose_voice(config, profiles, voice)
    engine = make_engine(config, profile)
    log.info("voice %s (engine %s): %s", profile.name, profile.engine, why)
    cache = None
    if config.speech.cache:
        cache = PhraseCache(config.path(config.var_dir) / "cache" / "tts")
        removed = cache.prune(config.speech.cache_max_mb * 1024 * 1024)
        if removed:
            log.info("phrase cache over its limit: %d least recently used phrases removed", removed)
    return VoiceSynthesizer(
        engine,
        profile,
        lexicon=load_lexicon(config, profile),
        cache=cache,
        stress=stress_placer(profile),
    )


def stress_placer(profile: VoiceProfile) -> SileroStress | None:
    """The profile's stress placer, loaded now: a call worker builds its voice when it starts,
    so the model's ~6 s are spent before the first call, not after a customer answers."""
    if profile.stress == "off":
        return None
    why = stress_available()
    if why is not None:
        log.warning("voice %s: no stress marks (stress = %r): %s", profile.name, profile.stress,
                    why)  # fmt: skip
        return None
    placer = SileroStress(profile.stress)
    placer.load()
    return placer


def espeak_synthesizer() -> VoiceSynthesizer:
    """espeak-ng with its built-in profile, no cache and no lexicon: the voice that is always
    there (the fallback of a worker whose configured voice is missing, the simulated phones)."""

    profile = BUILTIN["espeak-ru"]
    return VoiceSynthesizer(EspeakEngine(voice=profile.speaker or "ru"), profile)
