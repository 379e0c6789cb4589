"""SMS length rules: alphabet choice, part counts, split points, GSM 7-bit encoding."""

from __future__ import annotations

import random

import pytest

from cuckoo.errors import MessageTooLong
from cuckoo.sms.segments import (
    GSM_BASIC,
    GSM_EXTENSION,
    Encoding,
    check_text,
    encode,
    encode_gsm7,
    is_gsm7,
    segments,
    septets,
    split,
    ucs2_units,
    udh_concat,
)

G, U = Encoding.GSM7, Encoding.UCS2
EMOJI = "\U0001f600"  # outside the BMP: a surrogate pair, 2 UTF-16 units

CASES = [
    # (text, encoding, parts)
    ("", G, 0),
    ("a", G, 1),
    ("a" * 160, G, 1),
    ("a" * 161, G, 2),
    ("a" * 306, G, 2),
    ("a" * 307, G, 3),
    ("a" * 153 * 10, G, 10),
    ("{" * 80, G, 1),  # 160 septets
    ("{" * 81, G, 2),  # 162 septets; 76 escape pairs fit in 153
    ("{" * 152, G, 2),  # 304 septets: 76 pairs (152 septets) per part
    ("{" * 153, G, 3),
    ("a" * 158 + "€", G, 1),  # 160 septets
    ("a" * 159 + "€", G, 2),  # 161 septets
    ("Hello, world! @£$¥ ÄÖÑÜ§ äöñüà ¿¡", G, 1),
    ("line\nbreak\rcr", G, 1),
    ("\x0c", G, 1),  # form feed is in the extension table
    ("`", U, 1),  # the backtick is not GSM (smpplib's table wrongly has it)
    ("ç", U, 1),  # GSM has only the capital Ç
    ("Я", U, 1),
    ("Я" * 70, U, 1),
    ("Я" * 71, U, 2),
    ("Я" * 134, U, 2),
    ("Я" * 135, U, 3),
    ("Привет! Ваш заказ №123 готов к выдаче.", U, 1),
    ("Order ready. Заказ готов.", U, 1),  # one Cyrillic letter makes the whole text UCS-2
    ("a" * 200 + "Ж", U, 3),  # 201 units: 67 + 67 + 67
    ("a" * 201 + "Ж", U, 4),
    (EMOJI * 35, U, 1),  # 70 units
    (EMOJI * 36, U, 2),  # 72 units; 33 emoji (66 units) per part -> 36 = 33 + 3
    (EMOJI * 67, U, 3),  # 33 + 33 + 1
    ("Я" * 69 + EMOJI, U, 2),  # 71 units
]


@pytest.mark.parametrize(("text", "encoding", "parts"), CASES)
def test_segments_table(text: str, encoding: Encoding, parts: int) -> None:
    assert segments(text) == (encoding, parts)
    s = split(text)
    assert s.encoding is encoding
    assert len(s.parts) == parts
    assert "".join(s.parts) == text


def test_every_basic_char_is_one_septet_and_every_extension_char_two() -> None:
    for ch in GSM_BASIC:
        if ch == "\x1b":
            continue
        assert is_gsm7(ch), repr(ch)
        assert septets(ch) == 1, repr(ch)
        assert segments(ch * 160) == (G, 1), repr(ch)
        assert segments(ch * 161) == (G, 2), repr(ch)
    for ch in GSM_EXTENSION:
        assert is_gsm7(ch), repr(ch)
        assert septets(ch) == 2, repr(ch)
        assert segments(ch * 80) == (G, 1), repr(ch)
        assert segments(ch * 81) == (G, 2), repr(ch)


def test_characters_outside_gsm_force_ucs2() -> None:
    for ch in "`çабвЁё«»—–…“”„’😀\t":
        assert not is_gsm7(ch), repr(ch)
        assert segments("abc" + ch)[0] is U, repr(ch)


def test_gsm_parts_never_split_an_escape_pair() -> None:
    text = "a" * 152 + "€" + "a" * 10  # the euro sign would straddle parts 1 and 2
    s = split(text)
    assert s.parts == ["a" * 152, "€" + "a" * 10]
    assert all(septets(p) <= 153 for p in s.parts)


def test_ucs2_parts_never_split_a_surrogate_pair() -> None:
    text = "Я" * 66 + EMOJI + "Я" * 10  # 77 units; the emoji would straddle at unit 67
    s = split(text)
    assert s.parts == ["Я" * 66, EMOJI + "Я" * 10]
    for p in s.parts:
        assert ucs2_units(p) <= 67
        p.encode("utf-16-be").decode("utf-16-be")  # each part is valid UTF-16 on its own


def test_parts_are_full_and_within_limits_on_random_texts() -> None:
    rng = random.Random(7)
    alphabet_g = [c for c in GSM_BASIC if c != "\x1b"] + list(GSM_EXTENSION)
    alphabet_u = [*alphabet_g, "Ж", "ы", EMOJI, "№"]
    for _ in range(300):
        alphabet = rng.choice([alphabet_g, alphabet_u])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 700)))
        s = split(text)
        assert "".join(s.parts) == text
        if s.encoding is G:
            size, single, measure = 153, 160, septets
        else:
            size, single, measure = 67, 70, ucs2_units
        if len(s.parts) == 1:
            assert measure(text) <= single
        else:
            assert measure(text) > single
            assert all(measure(p) <= size for p in s.parts)
            # greedy: the next part's first char would not have fitted
            for a, b in zip(s.parts, s.parts[1:], strict=False):
                assert measure(a) + measure(b[0]) > size
        assert segments(text) == (s.encoding, len(s.parts))


def test_too_long_raises_in_split_but_is_counted_by_segments() -> None:
    assert segments("a" * 153 * 255) == (G, 255)
    assert len(split("a" * 153 * 255).parts) == 255
    assert segments("a" * (153 * 255 + 1)) == (G, 256)
    with pytest.raises(MessageTooLong):
        split("a" * (153 * 255 + 1))


@pytest.mark.parametrize(
    ("text", "octets"),
    [
        ("@", b"\x00"),
        ("A", b"\x41"),
        ("a", b"\x61"),
        ("Δ", b"\x10"),
        ("§", b"\x5f"),
        ("¿", b"\x60"),
        ("à", b"\x7f"),
        ("€", b"\x1b\x65"),
        ("{}", b"\x1b\x28\x1b\x29"),
        ("[~]", b"\x1b\x3c\x1b\x3d\x1b\x3e"),
        ("\\|^", b"\x1b\x2f\x1b\x40\x1b\x14"),
        ("Hi!", b"Hi!"),
    ],
)
def test_encode_gsm7_unpacked(text: str, octets: bytes) -> None:
    assert encode_gsm7(text) == octets
    assert encode(text, G) == octets


def test_encode_gsm7_rejects_non_gsm() -> None:
    with pytest.raises(ValueError, match="not in the GSM"):
        encode_gsm7("Я")


def test_encode_ucs2_is_utf16be() -> None:
    assert encode("Яa", U) == b"\x04\x2f\x00\x61"
    assert encode(EMOJI, U) == b"\xd8\x3d\xde\x00"


def test_udh_concat() -> None:
    assert udh_concat(0x1A, 3, 2) == bytes([0x05, 0x00, 0x03, 0x1A, 3, 2])
    assert udh_concat(300, 2, 1)[3] == 300 & 0xFF


@pytest.mark.parametrize(
    ("text", "limit", "problem"),
    [
        ("Заказ готов", 1, None),
        ("  ", 6, "empty"),
        ("Я" * 71, 1, "needs 2 ucs2 parts; [sms] max_segments = 1"),
        ("a" * 306, 2, None),
        ("a" * 307, 2, "needs 3 gsm7 parts"),
        ("a" * (153 * 255 + 1), 255, "at most 255"),
    ],
)
def test_check_text(text: str, limit: int, problem: str | None) -> None:
    problems = check_text(text, limit)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
