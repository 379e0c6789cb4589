"""Pronunciation lexicon: company names, surnames with stress, Latin brand names → how to say them.

A TOML file of tables (their names only group entries for people: `[companies]`, `[surnames]`,
`[brands]`, …), each mapping a written form to a spoken one:

    [surnames]
    "Иванов*" = "Иван+ов"      # "*": the stem plus any ending: Иванову → Иван+ову
    [brands]
    "Wildberries" = "в+айлдберриз"

Matching is whole-word and case-insensitive; the longest entry wins. A "+" before a vowel is a
stress mark in Silero's style; `normalize()` keeps it, and engines that do not use stress marks
drop it. Apply the lexicon before `normalize()` so Latin names are replaced before anything else
touches them. Engines without stress marks (Festival, espeak-ng) get the text through
`strip_stress_marks()`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cuckoo.errors import ConfigError

_STRESS = re.compile(r"\+(?=[аеёиоуыэюяАЕЁИОУЫЭЮЯ])")


def strip_stress_marks(text: str) -> str:
    """ "Иван+ов" → "Иванов": for engines that would read the "+" or choke on it."""
    return _STRESS.sub("", text)


@dataclass(frozen=True)
class _Entry:
    written: str
    spoken: str
    stem: bool  # "Иванов*": any ending may follow


class Lexicon:
    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = {e.written.lower(): e for e in entries}
        self._pattern: re.Pattern[str] | None = None
        if entries:
            alternatives = []
            for e in sorted(entries, key=lambda e: len(e.written), reverse=True):
                body = r"\s+".join(re.escape(part) for part in e.written.split())
                alternatives.append(body + (r"\w*" if e.stem else ""))
            self._pattern = re.compile(
                r"(?<![\w+])(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE
            )

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def empty(cls) -> Lexicon:
        return cls([])

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read a lexicon file; errors name the file and the line."""
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read pronunciation lexicon: {e}") from e
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from e
        return cls.from_mapping(data, source=str(path), text=raw)

    @classmethod
    def from_mapping(cls, data: dict[str, object], *, source: str, text: str = "") -> Lexicon:
        lines = text.splitlines()

        def where(key: str) -> str:
            for number, line in enumerate(lines, 1):
                stripped = line.strip()
                if stripped.startswith((f'"{key}"', f"'{key}'", f"{key} ", f"{key}=", f"[{key}]")):
                    return f"{source}:{number}"
            return source

        entries: list[_Entry] = []
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(
                    f"{where(section)}: {section!r} must be a table like [brands] of "
                    '"written" = "spoken" entries'
                )
            for written, spoken in table.items():
                if not isinstance(spoken, str) or not spoken.strip():
                    raise ConfigError(
                        f"{where(written)}: [{section}] {written!r}: the spoken form must be a "
                        "non-empty string"
                    )
                stem = written.endswith("*")
                key = written.rstrip("*").strip()
                if not key:
                    raise ConfigError(f"{where(written)}: [{section}] empty written form")
                if stem and " " in key:
                    raise ConfigError(
                        f"{where(written)}: [{section}] {written!r}: '*' works on one word only"
                    )
                if "*" in spoken:
                    # The written form's ending is kept as said: a "*" here would be read out.
                    raise ConfigError(
                        f"{where(written)}: [{section}] {written!r} = {spoken!r}: '*' belongs "
                        f"to the written form only; write {spoken.replace('*', '')!r}"
                    )
                entries.append(_Entry(key, spoken.strip(), stem))
        return cls(entries)

    def apply(self, text: str) -> str:
        """Replace every lexicon entry in `text` with its spoken form."""
        if self._pattern is None:
            return text
        return self._pattern.sub(self._replace, text)

    def _replace(self, m: re.Match[str]) -> str:
        found = m.group(0)
        exact = self._entries.get(re.sub(r"\s+", " ", found).lower())
        if exact is not None and not exact.stem:
            return exact.spoken
        # A stem entry: the longest stem that starts the word; keep the written ending.
        lower = found.lower()
        for length in range(len(lower), 0, -1):
            entry = self._entries.get(lower[:length])
            if entry is not None and entry.stem:
                return entry.spoken + found[length:]
        return exact.spoken if exact is not None else found
