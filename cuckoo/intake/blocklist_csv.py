"""The do-not-call list as a CSV file, in and out. Pure: text in, rows out.

What admins and regulators exchange: one number per line, optionally a reason, in whatever an
office program saves — `;` or `,` between the fields, UTF-8 with or without a BOM, a header
line or none (`phone;reason`, `телефон;причина`). Each number in any usual spelling, normalized
as intake does. A line that is not a number is named by its line and skipped; the others are
kept. Export writes `phone;reason;added_at` in UTF-8 with a BOM and `;`, which Excel opens as
columns; importing an export gives the same list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone

__all__ = ["BlockLine", "export_csv", "parse_csv"]

_PHONE_HEADERS = {"phone", "телефон", "номер", "number"}


@dataclass(frozen=True)
class BlockLine:
    line: int
    phone: str  # E.164; "" when the line is not a number
    reason: str
    error: str = ""  # why the line was skipped


def parse_csv(text: str, default_reason: str = "imported") -> list[BlockLine]:
    """Every data line of a do-not-call CSV file with its number or its error."""
    text = text.lstrip("\ufeff")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    out: list[BlockLine] = []
    for n, fields in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in fields]
        if not any(cells):
            continue
        if n == 1 and cells[0].lower() in _PHONE_HEADERS:
            continue  # the header line
        reason = cells[1] if len(cells) > 1 and cells[1] else default_reason
        try:
            out.append(BlockLine(n, normalize_phone(cells[0]), reason))
        except InputError as e:
            out.append(BlockLine(n, "", reason, str(e)))
    return out


def export_csv(rows: Iterable[tuple[str, str, datetime]]) -> str:
    """(phone, reason, added at) rows as the file `parse_csv` reads back (with a BOM)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["phone", "reason", "added_at"])
    for phone, reason, added in rows:
        writer.writerow([phone, reason, added.isoformat(timespec="seconds")])
    return "\ufeff" + buf.getvalue()
