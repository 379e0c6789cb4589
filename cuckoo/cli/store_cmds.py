"""Store commands: `cuckoo db upgrade`, `notify add`, `notify cancel`, `status`, `block`,
`unblock` (the do-not-call list, or `--wrong-number`: the recorded wrong numbers); `report` has
its own module."""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from cuckoo.cli.output import add_json_flag, emit_json, group_usage, show_table
from cuckoo.cli.variables import parse_vars
from cuckoo.config import Config, load
from cuckoo.domain import CancelResult, ChannelKind, IncomingNotification, Status
from cuckoo.errors import InputError
from cuckoo.intake.blocklist_csv import export_csv, parse_csv
from cuckoo.intake.phones import normalize_phone
from cuckoo.store import Store, default_url
from cuckoo.store.cancels import BY_HAND
from cuckoo.store.models import NotificationRow
from cuckoo.worker.store import open_store


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema")
    db.set_defaults(func=group_usage(db))
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or migrate the tables (Alembic, to the newest)")
    up.set_defaults(func=cmd_db_upgrade)
    purge = db_sub.add_parser(
        "purge",
        help="delete personal data of notifications final for more than N days "
        "(phones, variables, transcripts, recordings; counts stay)",
    )
    purge.add_argument(
        "--older-than", type=int, metavar="DAYS", help="default: [store] retention_days"
    )
    purge.add_argument("--dry-run", action="store_true", help="count, change nothing")
    purge.set_defaults(func=cmd_db_purge)

    notify = sub.add_parser("notify", help="notifications by hand")
    notify.set_defaults(func=group_usage(notify))
    notify_sub = notify.add_subparsers(dest="notify_command", metavar="ACTION")
    add = notify_sub.add_parser("add", help="add one notification (source 'manual')")
    add.add_argument("--phone", required=True, help="the customer's number, any usual spelling")
    add.add_argument("--scenario", required=True, help="scenario name (file name in scenarios/)")
    add.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template variable; a dotted key nests: customer.first_name=Пётр",
    )
    add.add_argument("--vars-json", metavar="FILE", help="variables from a JSON object")
    add.add_argument(
        "--channel", choices=[c.value for c in ChannelKind], default=ChannelKind.CALL.value
    )
    add.add_argument("--tenant", default="default")
    add.add_argument(
        "--deadline", help="ISO time, e.g. 2026-12-01T18:00 (no zone: the tenant's zone)"
    )
    add.add_argument("--not-before", help="ISO time; first attempt not earlier")
    add.add_argument("--timezone", help="the customer's IANA zone (default: from the number)")
    add.add_argument("--id", dest="external_id", help="external id (default: generated)")
    add.set_defaults(func=cmd_notify_add)

    cancel = notify_sub.add_parser(
        "cancel",
        help="cancel a notification: it is not tried again (a call under way finishes first)",
    )
    cancel.add_argument(
        "notification", help="its id (as `cuckoo report` shows it) or SOURCE/EXTERNAL_ID"
    )
    cancel.add_argument("--reason", help="why, kept with it and told to its ERP")
    add_json_flag(cancel)
    cancel.set_defaults(func=cmd_notify_cancel)

    status = sub.add_parser("status", help="notifications counted by status")
    add_json_flag(status)
    status.set_defaults(func=cmd_status)

    block = sub.add_parser(
        "block",
        help="put a number on the do-not-call list (--import FILE.csv, --export FILE|-)",
    )
    block.add_argument("phone", nargs="?")
    block.add_argument("--reason", default="added by hand")
    block.add_argument(
        "--import", dest="import_file", metavar="FILE", help="add every number of a CSV file"
    )
    block.add_argument(
        "--export", dest="export_file", metavar="FILE", help="write the list as CSV ('-': stdout)"
    )
    block.set_defaults(func=cmd_block)

    unblock = sub.add_parser(
        "unblock",
        help="take a number off the do-not-call list (--wrong-number: forget it was wrong)",
    )
    unblock.add_argument("phone")
    unblock.add_argument(
        "--wrong-number",
        action="store_true",
        help="forget that somebody else answered this number for its customers (the number "
        "was fixed): new notifications to it are called again",
    )
    unblock.add_argument("--tenant", help="with --wrong-number: only this tenant's customers")
    unblock.set_defaults(func=cmd_unblock)


# ---- helpers (pure) --------------------------------------------------------------------------

_SPAN = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(
    text: str, now: datetime, default_tz: str = "UTC", *, what: str = "time"
) -> datetime:
    """ISO time (a time without zone is in `default_tz`) or a span back from now ('12h')."""
    m = _SPAN.match(text.strip())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise InputError(
            f"{what}: {text!r} is not a time; give an ISO time (2026-12-01, 2026-12-01T18:00, "
            "2026-12-01T18:00+03:00) or a span back from now (45s, 30m, 12h, 7d)"
        ) from e
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(default_tz))


# ---- commands --------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Config:

    return load(args.config)


def cmd_db_purge(args: argparse.Namespace) -> int:
    config = _config(args)
    days = args.older_than if args.older_than is not None else config.store.retention_days
    if days <= 0:
        raise InputError("db purge: give --older-than DAYS (or set [store] retention_days)")
    before = datetime.now(UTC) - timedelta(days=days)
    store = open_store(config)
    total = attempts = recordings = 0
    try:
        while True:
            report = store.purge(before, 1_000_000 if args.dry_run else 500, dry_run=args.dry_run)
            total, attempts = total + report.notifications, attempts + report.attempts
            recordings += report.recordings
            for err in report.recording_errors:
                print(f"cannot delete {err}", file=sys.stderr)
            if args.dry_run or report.notifications < 500:
                break
    finally:
        store.close()
    verb = "would purge" if args.dry_run else "purged"
    print(
        f"{verb} {total} notifications final before {before:%Y-%m-%d %H:%M} UTC "
        f"({attempts} attempts, {recordings} recordings)"
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:

    config = _config(args)
    store = open_store(config, check_schema=False)
    try:
        rev = store.upgrade()
    finally:
        store.close()
    print(f"database {_safe_url(default_url(config))} is at revision {rev}")
    return 0


# The `notify add` option of each field admission may refuse (Rejected.field).
FIELD_OPTIONS = {
    "tenant": "--tenant",
    "channel": "--channel",
    "variables": "--var",
    "phone": "--phone",
    "scenario": "--scenario",
    "not_before": "--not-before",
    "deadline": "--deadline",
    "timezone": "--timezone",
}


def refusal(field: str, reason: str) -> str:
    """Why `notify add` stored nothing, led by the option to fix."""
    option = FIELD_OPTIONS.get(field)
    lead = f"notify add: {option}: " if option else "notify add: "
    return f"{lead}{reason}; nothing stored"


def cmd_notify_add(args: argparse.Namespace) -> int:
    """One notification by hand. It goes through the same admission as an ERP row, but a row
    admission refuses is not stored (there is no ERP to report it to): the error says which
    option to fix and the exit status is 1."""
    config = _config(args)
    now = datetime.now(UTC)
    tenant_tz = config.policy.tenant_timezone(args.tenant)
    item = IncomingNotification(
        source="manual",
        external_id=args.external_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        phone=args.phone,
        scenario=args.scenario,
        channel=ChannelKind(args.channel),
        variables=parse_vars(args.var, args.vars_json),
        tenant=args.tenant,
        timezone=args.timezone,
        deadline=parse_time(args.deadline, now, tenant_tz, what="--deadline")
        if args.deadline
        else None,
        not_before=parse_time(args.not_before, now, tenant_tz, what="--not-before")
        if args.not_before
        else None,
    )
    store = open_store(config)
    try:
        report = store.ingest([item], now, keep_rejected=False)
        row = store.get(item.source, item.external_id)
    finally:
        store.close()
    if report.duplicates:
        was = ""
        if row is not None:  # e.g. rejected before: say why, the id is taken for good
            was = f" ({row.status}: {row.detail})" if row.detail else f" ({row.status})"
        raise InputError(f"manual/{item.external_id} exists already{was}; give another --id")
    if report.rejected:
        verdict = report.rejected[0]
        raise InputError(refusal(verdict.field, verdict.reason))
    if report.errors:  # the database refused the row (e.g. an --id longer than its column)
        raise InputError("; ".join(report.errors))
    assert row is not None
    print(
        f"added notification {row.id} (manual/{row.external_id}) to {row.phone}, "
        f"zone {row.timezone}, first attempt at {row.next_attempt_at:%Y-%m-%d %H:%M} UTC"
    )
    return 0


_CANCEL_SAID = {
    CancelResult.CANCELLED: "cancelled; its ERP is told",
    CancelResult.AFTER_CALL: "a call is under way: it ends cancelled when the call is over "
    "(unless the customer answers it for good)",
}


def cmd_notify_cancel(args: argparse.Namespace) -> int:
    """`notify cancel ID|SOURCE/EXTERNAL_ID`: exit 0 when cancelled (or to end after its
    call) or already ended, 1 when there is no such notification."""
    config = _config(args)
    reason = BY_HAND + (f": {args.reason}" if args.reason else "")
    store = open_store(config)
    try:
        row = _find_notification(store, args.notification)
        result = (
            CancelResult.NOT_FOUND
            if row is None
            else store.cancel_notification(row.id, reason=reason, now=datetime.now(UTC))
        )
        after = store.get_by_id(row.id) if row is not None else None
    finally:
        store.close()
    if row is None or after is None:
        raise InputError(
            f"notify cancel: no notification {args.notification!r} (give its id, or "
            "SOURCE/EXTERNAL_ID as `cuckoo report` shows them)"
        )
    if args.json:
        emit_json(
            {
                "id": after.id,
                "source": after.source,
                "external_id": after.external_id,
                "result": result.value,
                "status": after.status,
            }
        )
        return 0
    name = f"notification {after.id} ({after.source}/{after.external_id})"
    said = _CANCEL_SAID.get(result, f"nothing to cancel: it has ended {after.status}")
    print(f"{name}: {said}")
    return 0


def _find_notification(store: Store, ref: str) -> NotificationRow | None:
    """By id, or by SOURCE/EXTERNAL_ID (the external id may hold slashes itself)."""
    if ref.isdigit():
        return store.get_by_id(int(ref))
    source, sep, external_id = ref.partition("/")
    return store.get(source, external_id) if sep else None


def status_document(
    counts: dict[str, int],
    due: int,
    later: datetime | None,
    outbox: dict[str, int],
    blocked: int,
    sms_requests: dict[str, int],
    wrong_numbers: int = 0,
) -> dict[str, object]:
    """`cuckoo status --json` (its shape is in the README's command reference): every status
    is present, 0 when none."""
    ordered = {s.value: counts.get(s.value, 0) for s in Status}
    ordered.update({k: v for k, v in counts.items() if k not in ordered})
    return {
        "notifications": ordered,
        "total": sum(counts.values()),
        "due_now": due,
        "next_attempt_at": later,
        "outbox_waiting": sum(outbox.values()),
        "outbox_waiting_by_source": dict(sorted(outbox.items())),
        "blocked_numbers": blocked,
        "wrong_numbers": wrong_numbers,
        "sms_requests": {k: sms_requests.get(k, 0) for k in ("pending", "failed", "sent")},
    }


def cmd_status(args: argparse.Namespace) -> int:

    config = _config(args)
    store = open_store(config)
    try:
        counts = store.counts_by_status()
        due, later = store.due_summary(datetime.now(UTC))
        outbox = store.outbox_pending_by_source()
        blocked = len(store.blocked_numbers())
        wrong = store.wrong_number_count()
        sms_requests = store.sms_request_counts()
    finally:
        store.close()
    if args.json:
        emit_json(status_document(counts, due, later, outbox, blocked, sms_requests, wrong))
        return 0
    order = [s.value for s in Status]
    rows = [
        [status, str(counts[status])]
        for status in sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
    ]
    rows.append(["total", str(sum(counts.values()))])
    show_table(["status", "count"], rows, title="notifications", right=["count"])
    next_at = f"{later:%Y-%m-%d %H:%M} UTC" if later else "none"
    print(f"due now: {due}; next attempt after that: {next_at}")
    print(
        f"results waiting for the ERP: {sum(outbox.values())}{_unrouted(outbox, config)}; "
        f"blocked numbers: {blocked}"
    )
    print(f"wrong numbers (customer, number): {wrong}")
    print(
        f"SMS asked for in calls: {sms_requests.get('pending', 0)} waiting, "
        f"{sms_requests.get('failed', 0)} failed, {sms_requests.get('sent', 0)} sent"
    )
    return 0


def _unrouted(waiting: dict[str, int], config: Config) -> str:
    """Why some results will wait for ever: their source has no adapter in this config (kept,
    so that they go out once it is added). Hand-added ones have no ERP at all."""
    notes = []
    for source, n in sorted(waiting.items()):
        if source in config.adapters:
            continue
        if source == "manual":
            notes.append(f"{n} of `notify add`, which has no ERP: see `cuckoo report`")
        else:
            notes.append(f"{n} of {source!r}, which has no [adapters.{source}] here")
    return f" ({'; '.join(notes)})" if notes else ""


def cmd_block(args: argparse.Namespace) -> int:
    given = [x for x in (args.phone, args.import_file, args.export_file) if x is not None]
    if len(given) != 1:
        print("cuckoo block: give one of PHONE, --import FILE or --export FILE", file=sys.stderr)
        return 2  # a usage error, as argparse's
    if args.import_file is not None:
        return _block_import(args)
    if args.export_file is not None:
        return _block_export(args)
    store = open_store(_config(args))
    try:
        phone = store.block(args.phone, args.reason, datetime.now(UTC))
    finally:
        store.close()
    print(f"blocked {phone}")
    return 0


def _block_import(args: argparse.Namespace) -> int:
    """Every number of the file onto the list; a line that is not a number is named and
    skipped, the others are kept (exit 1 when some were skipped)."""
    path = Path(args.import_file)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"block --import: {path}: {e}") from e
    lines = parse_csv(text, default_reason=f"imported from {path.name}")
    good = [(b.phone, b.reason) for b in lines if b.phone]
    for bad in (b for b in lines if not b.phone):
        print(f"{path}:{bad.line}: {bad.error}; skipped", file=sys.stderr)
    store = open_store(_config(args))
    try:
        added = store.block_many(good, datetime.now(UTC))
    finally:
        store.close()
    skipped = len(lines) - len(good)
    print(f"{path}: {len(good)} numbers, {added} new on the list, {skipped} lines skipped")
    return 1 if skipped else 0


def _block_export(args: argparse.Namespace) -> int:
    store = open_store(_config(args))
    try:
        rows = [(r.phone, r.reason, r.created_at) for r in store.blocked_numbers()]
    finally:
        store.close()
    data = export_csv(rows)
    if args.export_file == "-":
        sys.stdout.buffer.write(data.encode("utf-8"))
    else:
        Path(args.export_file).write_bytes(data.encode("utf-8"))
        print(f"{len(rows)} numbers written to {args.export_file}")
    return 0


def cmd_unblock(args: argparse.Namespace) -> int:

    config = _config(args)
    phone = normalize_phone(args.phone, config.store.default_region)  # InputError → exit 1
    if args.tenant is not None and not args.wrong_number:
        raise InputError("--tenant goes with --wrong-number (the do-not-call list has no tenants)")
    store = open_store(config)
    try:
        if args.wrong_number:
            forgotten = store.forget_wrong_number(phone, args.tenant)
        else:
            removed = store.unblock(phone)
    finally:
        store.close()
    if args.wrong_number:
        whose = f" of tenant {args.tenant}" if args.tenant is not None else ""
        print(f"forgot {forgotten} wrong-number record(s) of {phone}{whose}")
    else:
        print(f"unblocked {phone}" if removed else f"{phone} was not blocked")
    return 0


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""

    return make_url(url).render_as_string(hide_password=True)
