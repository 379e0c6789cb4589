"""[speech] section of cuckoo.toml: the voice, the phrase cache, engine knobs, the ASR model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cuckoo.speech.nlu.times import DayParts


class SpeechSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Voice profile name (a voices/<name>.toml file). "" = automatic: the first Silero profile
    # whose model file is in models_dir, else Festival (festvox-ru), else espeak-ng.
    voice: str = ""
    # Phrase cache under var_dir/cache/tts: repeated prompts are synthesized once.
    cache: bool = True
    # Upper bound of the phrase cache; the least recently used go first when a synthesizer starts.
    cache_max_mb: int = Field(default=1024, ge=1)
    # torch threads for Silero; 1 keeps several calls from fighting over the cores.
    torch_threads: int = Field(default=1, ge=1, le=64)
    # Festival server port on 127.0.0.1; 0 = pick a free port at start.
    festival_port: int = Field(default=0, ge=0, le=65535)
    # Seconds to wait for the Festival server to come up / for one phrase.
    festival_timeout_s: float = Field(default=30.0, gt=0)
    # Vosk model folder (relative to models_dir, or absolute). "" = the first installed
    # Russian model (`cuckoo models list`), else none: calls are DTMF-only.
    asr_model: str = ""
    # What hours the parts of day in a spoken answer mean, "HH:MM" each: morning ("утром"),
    # day ("днём"), after_lunch ("после обеда"), evening ("вечером"), default (a day named
    # without a time: "завтра"). Unset keys keep the defaults 9:00, 13:00, 14:00, 18:00, 10:00.
    day_parts: dict[str, str] = {}

    @field_validator("day_parts")
    @classmethod
    def _valid_day_parts(cls, value: dict[str, str]) -> dict[str, str]:

        DayParts.from_mapping(value, where="speech.day_parts")  # ValueError naming the key
        return value
