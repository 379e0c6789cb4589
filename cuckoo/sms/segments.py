"""SMS length rules, as pure functions: which alphabet a text needs and how it splits into parts.

GSM 03.38 7-bit default alphabet: 160 septets in one SMS, 153 per part of a concatenated one (the
6-byte UDH takes 7 septets). Characters of the extension table (``^{}\\[~]|€`` and form feed) are
sent as ESC + char, so they take two septets, and a part never ends between the two.
Anything outside the GSM alphabet (Cyrillic, emoji...) goes as UCS-2 (UTF-16BE on the wire):
70 code units in one SMS, 67 per part; a surrogate pair (emoji) is never split.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from cuckoo.errors import MessageTooLong

# GSM 03.38 basic table, index = septet value. 0x1B is the escape to the extension table.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Extension table: char -> septet that follows ESC.
GSM_EXTENSION = {
    "\x0c": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC_INDEX = {ch: i for i, ch in enumerate(GSM_BASIC) if ch != "\x1b"}

GSM_SINGLE = 160
GSM_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67
MAX_PARTS = 255  # the UDH part counter is one octet


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"  # SMPP data_coding 0x00 (SMSC default alphabet)
    UCS2 = "ucs2"  # SMPP data_coding 0x08


@dataclass(frozen=True)
class Split:
    encoding: Encoding
    parts: list[str]  # text of each SMS part, in order; [] for empty text


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM 7-bit default alphabet or its extension table."""
    return all(ch in _BASIC_INDEX or ch in GSM_EXTENSION for ch in text)


def _gsm_cost(ch: str) -> int:
    return 2 if ch in GSM_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair is two UTF-16 code units


def septets(text: str) -> int:
    """Length of a GSM 7-bit text in septets (extension characters count double)."""
    return sum(_gsm_cost(ch) for ch in text)


def ucs2_units(text: str) -> int:
    """Length of a text in UTF-16 code units."""
    return sum(_ucs2_cost(ch) for ch in text)


def _pack(text: str, size: int, cost: Callable[[str], int]) -> list[str]:
    """Greedy fill: a character that does not fit whole starts the next part."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        c = cost(ch)
        if used + c > size:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += c
    if current:
        parts.append("".join(current))
    return parts


def _split_any(text: str) -> Split:
    if is_gsm7(text):
        encoding, single, part, cost = Encoding.GSM7, GSM_SINGLE, GSM_PART, _gsm_cost
    else:
        encoding, single, part, cost = Encoding.UCS2, UCS2_SINGLE, UCS2_PART, _ucs2_cost
    if not text:
        return Split(encoding, [])
    if sum(cost(ch) for ch in text) <= single:
        return Split(encoding, [text])
    return Split(encoding, _pack(text, part, cost))


def split(text: str) -> Split:
    """Split a text into SMS parts the way a phone reassembles them.

    Raises MessageTooLong beyond 255 parts."""
    result = _split_any(text)
    if len(result.parts) > MAX_PARTS:
        raise MessageTooLong(
            f"SMS text needs {len(result.parts)} parts; at most {MAX_PARTS} are possible"
        )
    return result


def segments(text: str) -> tuple[Encoding, int]:
    """(encoding, number of SMS parts) for a text; what `cuckoo check` reports per scenario.

    Empty text is 0 parts. Unlike `split`, never raises: a text over 255 parts returns its
    (impossible) count so the checker can name it."""
    result = _split_any(text)
    return result.encoding, len(result.parts)


def encode_gsm7(text: str) -> bytes:
    """GSM 7-bit text as unpacked septets, one per octet (how SMPP carries data_coding 0)."""
    out = bytearray()
    for ch in text:
        if ch in GSM_EXTENSION:
            out += bytes((0x1B, GSM_EXTENSION[ch]))
        else:
            try:
                out.append(_BASIC_INDEX[ch])
            except KeyError:
                raise ValueError(f"{ch!r} is not in the GSM 7-bit alphabet") from None
    return bytes(out)


def encode(text: str, encoding: Encoding) -> bytes:
    return encode_gsm7(text) if encoding is Encoding.GSM7 else text.encode("utf-16-be")


def udh_concat(ref: int, total: int, seq: int) -> bytes:
    """User data header for part `seq` of `total` (IEI 0x00: 8-bit reference number)."""
    return bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq))


def check_text(text: str, max_segments: int) -> list[str]:
    """Problems with an SMS text for `cuckoo check` (empty list = fine)."""
    encoding, count = segments(text.strip())
    if count == 0:
        return ["SMS text is empty"]
    problems = []
    if count > MAX_PARTS:
        problems.append(f"SMS text needs {count} parts; at most {MAX_PARTS} are possible")
    elif count > max_segments:
        problems.append(
            f"SMS text needs {count} {encoding} parts; [sms] max_segments = {max_segments}"
        )
    return problems
