"""The values of an ERP row's variables, made safe to say. Pure.

A variable reaches a customer's ear: a 10 000-character name makes a voice fail after the
customer answered; control characters, zero-width and bidi marks are noise a synthesizer reads
or chokes on. So at intake:

- control characters (C0 and C1: NUL, ESC, ...), zero-width characters, bidi controls and
  other format characters are **removed**; a newline or tab becomes a space. That loses
  nothing a person would hear, so the row is kept;
- a text longer than `max_chars` (after that) is **refused**, naming the variable: nobody can
  listen to it, and cutting it would say something the ERP did not write.

Nested objects and lists are walked; numbers and booleans pass as they are.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from cuckoo.domain import Variables
from cuckoo.errors import InputError

__all__ = ["DEFAULT_MAX_CHARS", "clean_text", "clean_variables"]

DEFAULT_MAX_CHARS = 200
_SPACES = {"\n", "\r", "\t", "\v", "\f", "\u2028", "\u2029", "\u0085"}


def clean_text(text: str) -> str:
    """`text` without control, format (zero-width, bidi) and other invisible characters;
    line breaks and tabs become spaces."""
    out = []
    for ch in text:
        if ch in _SPACES:
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # control, format, surrogate, private use, unassigned
        else:
            out.append(ch)
    return "".join(out)


def clean_variables(variables: Variables, max_chars: int = DEFAULT_MAX_CHARS) -> Variables:
    """A cleaned copy of `variables`; InputError naming the first variable that is too long."""
    cleaned: Variables = {k: _clean(v, str(k), max_chars) for k, v in variables.items()}
    return cleaned


def _clean(value: Any, name: str, max_chars: int) -> Any:
    if isinstance(value, str):
        text = clean_text(value)
        if len(text) > max_chars:
            raise InputError(
                f"variable {name!r} is {len(text)} characters long (the limit is {max_chars}: "
                "[policy] max_variable_chars)"
            )
        return text
    if isinstance(value, dict):
        return {k: _clean(v, f"{name}.{k}", max_chars) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, f"{name}[{i}]", max_chars) for i, v in enumerate(value)]
    return value
