"""Voice profiles: voices/<name>.toml says which engine speaks and how.

    engine = "rhvoice"           # rhvoice | silero | festival | espeak
    speaker = "aleksandr"        # rhvoice voice; silero speaker; espeak voice ("ru"); festival
                                 # voice function
    model = "silero/v4_ru.pt"    # silero: the model file, relative to models_dir; rhvoice: its
                                 # data folder (languages/, voices/), "" = /usr/share/RHVoice
    sample_rate = 24000          # silero only: 8000 | 24000 | 48000 (files get this rate)
    tempo = 1.0                  # speech speed, 1.0 = the engine's normal
    pitch = 50                   # espeak and rhvoice, 0-99 (50 = the voice's own)
    volume = 1.0                 # gain applied to the samples
    lexicon = "lexicon.toml"     # pronunciation lexicon in voices_dir; "" = none
    put_accent = true            # silero: let the model place stress
    put_yo = true                # silero: restore "ё"
    stress = "names"             # "+" stress marks from silero-stress (cuckoo.speech.stress):
                                 # "off", "names" (names, homographs), "all" (every word)

Built-in profiles (rhvoice-aleksandr, rhvoice-anna, rhvoice-irina, festival-ru, espeak-ru,
silero-v4-ru, silero-v5-ru, silero-v5-cis) exist even with an empty voices/ folder; a file with
the same name overrides one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cuckoo.errors import ConfigError
from cuckoo.speech.stress import StressMode

EngineName = Literal["silero", "rhvoice", "festival", "espeak"]


class VoiceProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    engine: EngineName
    description: str = ""
    speaker: str = ""
    model: str = ""
    sample_rate: int = 24000
    tempo: float = Field(default=1.0, gt=0.2, le=4.0)
    pitch: int = Field(default=50, ge=0, le=99)
    volume: float = Field(default=1.0, gt=0.0, le=8.0)
    lexicon: str = "lexicon.toml"
    put_accent: bool = True
    put_yo: bool = True
    # Stress marks placed before synthesis (cuckoo.speech.stress); off where none are read.
    stress: StressMode = "off"
    license: str = ""

    @property
    def non_commercial(self) -> bool:
        """The licence forbids commercial use (a robot calling a company's customers is)."""
        text = self.license.lower()
        return "non-commercial" in text or "noncommercial" in text or "by-nc" in text

    def fingerprint(self) -> str:
        """Everything that changes the sound: part of the cache key."""
        return self.model_dump_json(exclude={"description", "license", "lexicon"})


RHVOICE_LICENSE = "GPL-2.0+ voice data, LGPL-2.1+ library (RHVoice, Debian non-free)"

BUILTIN: dict[str, VoiceProfile] = {
    p.name: p
    for p in [
        VoiceProfile(
            name="silero-v4-ru",
            engine="silero",
            model="silero/v4_ru.pt",
            speaker="xenia",
            stress="names",
            description="Silero v4_ru, female voice xenia",
            license="CC BY-NC 4.0 (non-commercial)",
        ),
        VoiceProfile(
            name="silero-v5-ru",
            engine="silero",
            model="silero/v5_ru.pt",
            speaker="xenia",
            stress="names",
            description="Silero v5_ru, female voice xenia",
            license="CC BY-NC 4.0 (non-commercial)",
        ),
        VoiceProfile(
            name="silero-v5-cis",
            engine="silero",
            model="silero/v5_cis_base.pt",
            speaker="ru_xenia",
            put_accent=False,
            stress="all",  # it places no stress by itself
            description="Silero v5_cis_base (needs '+' stress marks: silero-stress, lexicon)",
            license="MIT",
        ),
        VoiceProfile(
            name="rhvoice-aleksandr",
            engine="rhvoice",
            speaker="aleksandr",
            stress="names",
            description="RHVoice 1.14, male voice aleksandr",
            license=RHVOICE_LICENSE,
        ),
        VoiceProfile(
            name="rhvoice-anna",
            engine="rhvoice",
            speaker="anna",
            stress="names",
            tempo=0.9,  # anna is quick for a phone line: 0.9 ≈ RHVoice rate -0.2
            description="RHVoice 1.14, female voice anna",
            license=RHVOICE_LICENSE,
        ),
        VoiceProfile(
            name="rhvoice-irina",
            engine="rhvoice",
            speaker="irina",
            stress="names",
            description="RHVoice 1.14, female voice irina",
            license=RHVOICE_LICENSE,
        ),
        VoiceProfile(
            name="festival-ru",
            engine="festival",
            speaker="voice_msu_ru_nsh_clunits",
            description="Festival festvox-ru, male voice msu_ru_nsh (clunits)",
            license="festvox-ru: BSD-style (Debian package)",
        ),
        VoiceProfile(
            name="espeak-ru",
            engine="espeak",
            speaker="ru",
            description="espeak-ng Russian (formant synthesis: robotic but always available)",
            license="GPL-3.0 (espeak-ng)",
        ),
    ]
}

# Order the automatic choice tries: the best sounding voice whose files are present and whose
# licence allows a business to use it (non-commercial ones are skipped: name them to use them).
AUTO_ORDER = [
    "silero-v4-ru",
    "silero-v5-ru",
    "silero-v5-cis",
    "rhvoice-aleksandr",
    "festival-ru",
    "espeak-ru",
]


def load_profile(path: Path) -> VoiceProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read voice profile: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    try:
        return VoiceProfile.model_validate({**data, "name": path.stem})
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(f"{path}: {problems}") from e


def load_profiles(voices_dir: Path) -> dict[str, VoiceProfile]:
    """Built-ins, then every voices/*.toml except the lexicon (files win on name clashes)."""
    profiles = dict(BUILTIN)
    if voices_dir.is_dir():
        for path in sorted(voices_dir.glob("*.toml")):
            if path.name == "lexicon.toml":
                continue
            profiles[path.stem] = load_profile(path)
    return profiles
