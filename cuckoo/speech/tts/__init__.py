"""Text-to-speech: engines (Silero, RHVoice, Festival, espeak-ng), voice profiles, the cache.

    synth = build_synthesizer(config)          # or build_synthesizer(config, "festival-ru")
    audio = synth.synthesize("Заказ № 123 готов", rate=8000)

Heavy engines (torch) are imported only when a Silero voice is built.
"""

from cuckoo.errors import TtsError
from cuckoo.speech.tts.base import Engine
from cuckoo.speech.tts.cache import PhraseCache, cache_key
from cuckoo.speech.tts.profiles import VoiceProfile, load_profiles
from cuckoo.speech.tts.synth import (
    VoiceSynthesizer,
    build_synthesizer,
    choose_voice,
    espeak_synthesizer,
    make_engine,
    unavailable_reason,
)

__all__ = [
    "Engine",
    "PhraseCache",
    "TtsError",
    "VoiceProfile",
    "VoiceSynthesizer",
    "build_synthesizer",
    "cache_key",
    "choose_voice",
    "espeak_synthesizer",
    "load_profiles",
    "make_engine",
    "unavailable_reason",
]
