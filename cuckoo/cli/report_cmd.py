"""`cuckoo report`: the attempts, oldest first, filtered; for a person (80 columns, times in
the customer's zone) or for a script (tab-separated in a pipe, `--format csv`, `--json`).

The pure part (filters checked, rows shaped) is separate from the command, which only reads
the store and prints.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo.cli.output import add_json_flag, emit_json, show_table
from cuckoo.cli.store_cmds import parse_time
from cuckoo.config import load
from cuckoo.domain import Outcome, Status
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import AttemptLine, ReportFilter
from cuckoo.worker.store import open_store


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="attempts, oldest first (filters: --status --outcome --phone --since --tenant)",
        description="The attempts, oldest first. On a terminal: a table of id, the customer's "
        "local time, phone, scenario and outcome (--wide: every column); in a pipe: the same "
        "as tab-separated lines with a header; --format csv or --json: every field.",
    )
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    add_json_flag(p)  # the same as --format json
    p.add_argument("--wide", action="store_true", help="every column in the table")
    p.add_argument("--utc", action="store_true", help="times in UTC, not the customer's zone")
    p.add_argument(
        "--since",
        help="ISO time (2026-12-01, 2026-12-01T18:00, +03:00 optional; without a zone: the "
        "tenant's) or a span back from now: 30m, 12h, 7d",
    )
    p.add_argument("--status", help="the notification's status now: " + ", ".join(STATUSES))
    p.add_argument("--outcome", help="the attempt's outcome: " + ", ".join(OUTCOMES))
    p.add_argument("--phone", help="the customer's number, any usual spelling")
    p.add_argument("--tenant", help="only this tenant's notifications")
    p.add_argument("--limit", type=int, help="at most this many attempts")
    p.set_defaults(func=cmd_report)


STATUSES = [s.value for s in Status]
OUTCOMES = [o.value for o in Outcome]

# CSV columns, in this order (a stable shape: new ones go at the end). Times in UTC.
CSV_COLUMNS = [
    "started_at",
    "notification_id",
    "source",
    "external_id",
    "tenant",
    "phone",
    "scenario",
    "no",
    "channel",
    "outcome",
    "sip_code",
    "dtmf",
    "transcript",
    "duration_s",
    "status",
    "owner",
    "detail",
    "timezone",
]


# ---- pure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportArgs:
    """The report's options, checked."""

    where: ReportFilter
    limit: int | None


def check_filters(
    *,
    status: str | None,
    outcome: str | None,
    phone: str | None,
    tenant: str | None,
    since: str | None,
    limit: int | None,
    now: datetime,
    since_tz: str,
    default_region: str,
) -> ReportArgs:
    """The command line's filters as a ReportFilter, or an InputError naming the option and
    what it accepts. A --since without a zone is read in `since_tz`; --phone is normalized the
    way intake normalizes the ERP's numbers, so any spelling finds the stored E.164."""
    if status is not None and status not in STATUSES:
        raise InputError(f"--status {status!r}: not a status; one of {', '.join(STATUSES)}")
    if outcome is not None and outcome not in OUTCOMES:
        raise InputError(f"--outcome {outcome!r}: not an outcome; one of {', '.join(OUTCOMES)}")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit}: give 1 or more")
    try:
        e164 = normalize_phone(phone, default_region) if phone is not None else None
    except InputError as e:
        raise InputError(f"--phone: {e}") from e
    start = parse_time(since, now, since_tz, what="--since") if since is not None else None
    where = ReportFilter(since=start, status=status, outcome=outcome, phone=e164, tenant=tenant)
    return ReportArgs(where, limit)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a rejected row may carry a zone that is not one


def local_time(line: AttemptLine) -> datetime:
    """When the attempt started, in the customer's zone."""
    return line.started_at.astimezone(_zone(line.timezone))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def table(
    lines: Sequence[AttemptLine], *, wide: bool = False, utc: bool = False
) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) for the terminal or the pipe. The default five columns fit 80
    characters; `wide` adds every other one; the time is the customer's local time unless
    `utc` (the header says which)."""
    time_header = "time (UTC)" if utc else "local time"
    if wide:
        headers = [
            "id",
            time_header,
            "zone",
            "phone",
            "scenario",
            "#",
            "via",
            "outcome",
            "status",
            "SIP",
            "DTMF",
            "sec",
            "source",
            "ext. id",
            "tenant",
            "detail",
        ]
    else:
        headers = ["id", time_header, "phone", "scenario", "outcome"]
    rows = []
    for line in lines:
        when = line.started_at.astimezone(UTC) if utc else local_time(line)
        cells = {
            "id": str(line.notification_id),
            time_header: f"{when:%Y-%m-%d %H:%M}",
            "zone": line.timezone,
            "phone": line.phone,
            "scenario": line.scenario,
            "#": str(line.no),
            "via": line.channel,
            "outcome": line.outcome or "",
            "status": line.status,
            "SIP": _cell(line.sip_code),
            "DTMF": line.dtmf,
            "sec": _cell(line.duration_s),
            "source": line.source,
            "ext. id": line.external_id,
            "tenant": line.tenant,
            "detail": line.detail,
        }
        rows.append([cells[h] for h in headers])
    return headers, rows


def csv_rows(lines: Sequence[AttemptLine]) -> list[list[str]]:
    return [[_cell(getattr(line, c)) for c in CSV_COLUMNS] for line in lines]


def json_document(lines: Sequence[AttemptLine]) -> dict[str, object]:
    """`cuckoo report --json` (its shape is in the README's command reference)."""
    attempts = []
    for line in lines:
        attempts.append(
            {
                "notification_id": line.notification_id,
                "source": line.source,
                "external_id": line.external_id,
                "tenant": line.tenant,
                "phone": line.phone,
                "scenario": line.scenario,
                "timezone": line.timezone,
                "status": line.status,
                "no": line.no,
                "channel": line.channel,
                "owner": line.owner,
                "started_at": line.started_at,
                "started_at_local": local_time(line),
                "ended_at": line.ended_at,
                "outcome": line.outcome,
                "sip_code": line.sip_code,
                "dtmf": line.dtmf,
                "transcript": line.transcript,
                "duration_s": line.duration_s,
                "detail": line.detail,
            }
        )
    return {"count": len(attempts), "attempts": attempts}


# ---- the command -----------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    config = load(args.config)
    checked = check_filters(
        status=args.status,
        outcome=args.outcome,
        phone=args.phone,
        tenant=args.tenant,
        since=args.since,
        limit=args.limit,
        now=datetime.now(UTC),
        since_tz="UTC" if args.utc else config.policy.tenant_timezone(args.tenant or "default"),
        default_region=config.store.default_region,
    )
    store = open_store(config)
    try:
        lines = store.attempts_report(limit=checked.limit, where=checked.where)
    finally:
        store.close()
    fmt = "json" if args.json else args.format
    if fmt == "json":
        emit_json(json_document(lines))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(lines))
    else:
        headers, rows = table(lines, wide=args.wide, utc=args.utc)
        show_table(
            headers,
            rows,
            title=f"attempts ({len(rows)})",
            right=["id", "#", "SIP", "sec"],
            no_wrap=["id", headers[1], "phone", "outcome"],
            fit=not args.wide,
        )
    return 0
