"""What must never reach the voice: control characters, terminal colour codes, HTML tags and
entities, invisible characters. Runs first, so every later pass sees plain text on one line."""

from __future__ import annotations

import html
import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[@-_]")
# Scripts and styles are code, not text.
_CODE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# A tag starts with a letter, "/" or "!" right after "<", so "<5 дней" is not one.
_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Soft hyphen, zero-width characters, word joiner, BOM and direction marks: they sit inside
# words ("достав\u00adка"), so they go without leaving a space.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Every other control character and line/paragraph separator (Unicode categories Cc, Zl, Zp).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Spaces that are not U+0020 (no-break, narrow, thin, ideographic...).
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def clean(text: str) -> str:
    """Plain one-line text: tags and escape sequences dropped, entities decoded ("&nbsp;" is a
    space, "&#8470;" is "№"), control characters and odd spaces turned into plain spaces."""
    text = _ANSI.sub("", text)
    text = _CODE.sub(" ", text)
    text = _TAG.sub(" ", text)  # tags first: a decoded "&lt;b&gt;" is text, not a tag
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text)
