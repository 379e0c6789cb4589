"""`cuckoo nlu`: what the robot understands from a transcript.

cuckoo nlu --now 2026-11-18T14:00 --tz Europe/Moscow "завтра в десять"
{"intent": "unknown", "time": "2026-11-19T10:00:00+03:00"}
printf 'да\\nнет\\n' | cuckoo nlu -        # one JSON object per input line
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo.errors import InputError
from cuckoo.speech.nlu import understand


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "nlu",
        help="understand a transcript: intent and callback time as JSON",
        description="Print the intent (yes/no/repeat/operator/optout/unknown) and the time "
        "(ISO-8601 with offset, or null) that a Vosk-style transcript means.",
    )
    parser.add_argument("text", help='the transcript, or "-" to read one utterance per line')
    parser.add_argument(
        "--now",
        help="local time of the customer, ISO without offset (default: the current time)",
    )
    parser.add_argument(
        "--tz", default="Europe/Moscow", help="the customer's IANA zone (default Europe/Moscow)"
    )
    parser.set_defaults(func=handle)


def _now(now: str | None, tz: str) -> datetime:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InputError(f"--tz: unknown time zone {tz!r}") from e
    if now is None:
        return datetime.now(zone).replace(second=0, microsecond=0)
    try:
        parsed = datetime.fromisoformat(now)
    except ValueError as e:
        raise InputError(f"--now: {now!r} is not an ISO time like 2026-11-18T14:00") from e
    return parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _line(text: str, now: datetime) -> str:

    got = understand(text, now)
    return json.dumps(
        {"intent": str(got.intent), "time": got.time.isoformat() if got.time else None},
        ensure_ascii=False,
    )


def handle(args: argparse.Namespace) -> int:
    now = _now(args.now, args.tz)
    if args.text != "-":
        print(_line(args.text, now))
        return 0
    for raw in sys.stdin:
        print(_line(raw.strip(), now), flush=True)
    return 0
