"""The scenarios page: each scenario's states with their texts rendered for its sample
variables (as the customer would hear them), the SMS text with its segment count, and the
voice saying a state's text (the "listen" button)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cuckoo.config import Config
from cuckoo.dialog.catalog import ScenarioCatalog
from cuckoo.dialog.loader import (
    check_file,
    recordings_of,
    render_sms,
    sample_context,
    scenario_files,
    template_fields,
)
from cuckoo.dialog.schema import Scenario
from cuckoo.dialog.templates import render
from cuckoo.errors import ConfigError, CuckooError, InputError
from cuckoo.sms.segments import segments

PHONE_RATE = 8000  # what the customer hears: the call's 8 kHz


@dataclass(frozen=True)
class StateView:
    name: str
    kind: str
    texts: list[tuple[str, str]]  # (field, rendered text)
    goes_to: list[str]


@dataclass(frozen=True)
class ScenarioView:
    name: str
    description: str
    file: str
    problems: list[str]
    states: list[StateView] = field(default_factory=list)
    sms: str | None = None
    sms_encoding: str = ""
    sms_segments: int = 0


def _catalog(config: Config) -> ScenarioCatalog:
    return ScenarioCatalog(config.path(config.scenarios_dir))


def listing(config: Config) -> list[ScenarioView]:
    folder = config.path(config.scenarios_dir)
    out = []
    for f in scenario_files(folder) if folder.is_dir() else []:
        sc, problems = check_file(f)
        out.append(
            ScenarioView(
                name=f.stem,
                description=sc.description if sc else "",
                file=f.name,
                problems=[str(p) for p in problems],
            )
        )
    return out


def _kind(state: Any) -> str:
    return type(state).__name__.removesuffix("State").lower()


def _targets(state: Any) -> list[str]:
    out = [getattr(state, "next", None), getattr(state, "on_fail", None)]
    out += [getattr(a, "go", None) for a in getattr(state, "answers", [])]
    return [t for t in dict.fromkeys(out) if t]


def _texts(scenario: Scenario, state: Any) -> list[tuple[str, str]]:
    ctx = sample_context(scenario)
    out = []
    for name, text in template_fields(state):
        try:
            out.append((name, render(text, ctx)))
        except Exception as e:  # a sample that does not fit: shown, not a 500
            out.append((name, f"[{type(e).__name__}: {e}]"))
    out += [(name, f"[♪ {file}]") for name, file in recordings_of(state)]
    return sorted(out, key=lambda item: _order(item[0]))


def _order(field: str) -> tuple[str, int]:
    """A hybrid say's parts in their order (say.0, say.1, …), the other fields as they come."""
    head, _, index = field.partition(".")
    return (head, int(index)) if index.isdigit() else (head, -1)


def detail(config: Config, name: str) -> ScenarioView:
    catalog = _catalog(config)
    if name not in catalog.names():
        raise InputError(f"no scenario {name!r}")
    scenario = catalog.get(name)
    states = [
        StateView(state_name, _kind(state), _texts(scenario, state), _targets(state))
        for state_name, state in scenario.states.items()
    ]
    sms = None
    encoding, parts = "", 0
    try:
        sms = render_sms(scenario, sample_context(scenario))
    except InputError as e:
        sms = f"[{e}]"
    if sms:
        enc, parts = segments(sms)
        encoding = enc.value
    return ScenarioView(
        name=scenario.name,
        description=scenario.description,
        file=f"{name}.yaml",
        problems=[],
        states=states,
        sms=sms,
        sms_encoding=encoding,
        sms_segments=parts,
    )


_voice_lock = threading.Lock()
_voices: dict[int, Any] = {}


def spoken(config: Config, name: str, state_name: str) -> bytes:
    """The state's first text as the configured voice says it on the phone, as WAV."""
    catalog = _catalog(config)
    if name not in catalog.names():
        raise InputError(f"no scenario {name!r}")
    scenario = catalog.get(name)
    state = scenario.states.get(state_name)
    if state is None:
        raise InputError(f"scenario {name}: no state {state_name!r}")
    texts = [t for _, t in _texts(scenario, state) if t and not t.startswith("[")]
    # (the listen button speaks the state's first text; its recordings are files the admin has)
    if not texts:
        raise InputError(f"scenario {name}: state {state_name} says nothing")
    from cuckoo.speech.tts import build_synthesizer  # the voice loads on the first listen

    with _voice_lock:  # one voice per config, used by one request at a time
        synth = _voices.get(id(config))
        if synth is None:
            try:
                synth = build_synthesizer(config, None)
            except CuckooError as e:
                raise ConfigError(f"no voice can speak here: {e}") from e
            _voices[id(config)] = synth
        audio = synth.synthesize(texts[0], rate=PHONE_RATE)
    return audio.to_wav_bytes()
