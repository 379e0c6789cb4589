"""`cuckoo report`, `status` and `notify add`: the pure part (filters checked, rows shaped, the
JSON documents, what a refusal says) and the exit codes `cuckoo --help` documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cuckoo.cli.main import EXIT_CODES, build_parser
from cuckoo.cli.report_cmd import CSV_COLUMNS, check_filters, csv_rows, json_document, table
from cuckoo.cli.scenario_cmds import EXIT_NOT_GOAL
from cuckoo.cli.store_cmds import FIELD_OPTIONS, refusal, status_document
from cuckoo.cli.telephony_cmds import NOT_ANSWERED
from cuckoo.domain import Status
from cuckoo.errors import InputError
from cuckoo.store import AttemptLine, ReportFilter

NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


def line(**kw: object) -> AttemptLine:
    base: dict[str, object] = {
        "notification_id": 17,
        "source": "shop",
        "external_id": "D-17",
        "tenant": "default",
        "phone": "+79123456789",
        "scenario": "payment_reminder",
        "timezone": "Asia/Yekaterinburg",
        "status": "pending",
        "no": 2,
        "channel": "call",
        "owner": "host:1",
        "started_at": NOW,
        "ended_at": NOW + timedelta(seconds=31),
        "outcome": "callback_requested",
        "sip_code": 200,
        "dtmf": "2",
        "transcript": "перезвоните завтра",
        "duration_s": 31.04,
        "detail": "",
    }
    return AttemptLine(**{**base, **kw})  # type: ignore[arg-type]


def filters(**kw: object) -> ReportFilter:
    args: dict[str, object] = {
        "status": None,
        "outcome": None,
        "phone": None,
        "tenant": None,
        "since": None,
        "limit": None,
        "now": NOW,
        "since_tz": "Europe/Moscow",
        "default_region": "RU",
    }
    return check_filters(**{**args, **kw}).where  # type: ignore[arg-type]


# ---- the table -------------------------------------------------------------------------------


def test_default_columns_fit_80_and_show_the_customers_local_time() -> None:
    headers, rows = table([line()])
    assert headers == ["id", "local time", "phone", "scenario", "outcome"]
    assert rows == [
        ["17", "2026-11-19 12:00", "+79123456789", "payment_reminder", "callback_requested"]
    ]
    # the longest values of each column, with rich's two-space gaps, still fit
    widths = [max(len(h), len(c)) for h, c in zip(headers, rows[0], strict=True)]
    assert sum(widths) + 2 * (len(widths) - 1) <= 80


def test_utc_says_so_in_its_header() -> None:
    headers, rows = table([line()], utc=True)
    assert headers[1] == "time (UTC)" and rows[0][1] == "2026-11-19 07:00"


def test_wide_has_every_column() -> None:
    headers, rows = table([line(detail="486 Busy Here")], wide=True)
    cells = dict(zip(headers, rows[0], strict=True))
    assert cells["zone"] == "Asia/Yekaterinburg" and cells["local time"] == "2026-11-19 12:00"
    assert (cells["#"], cells["via"], cells["SIP"], cells["DTMF"]) == ("2", "call", "200", "2")
    assert (cells["sec"], cells["status"], cells["detail"]) == ("31.0", "pending", "486 Busy Here")
    assert (cells["source"], cells["ext. id"], cells["tenant"]) == ("shop", "D-17", "default")


def test_a_zone_that_is_not_one_shows_utc() -> None:
    # a row refused at intake may carry what the ERP sent
    assert table([line(timezone="MSK")])[1][0][1] == "2026-11-19 07:00"


def test_csv_keeps_its_columns_and_adds_the_zone_last() -> None:
    assert CSV_COLUMNS[:2] == ["started_at", "notification_id"] and CSV_COLUMNS[-1] == "timezone"
    row = csv_rows([line(sip_code=None, outcome=None)])[0]
    assert row[0] == "2026-11-19 07:00:00" and row[-1] == "Asia/Yekaterinburg"
    assert row[CSV_COLUMNS.index("sip_code")] == "" and row[CSV_COLUMNS.index("outcome")] == ""


def test_json_document() -> None:
    doc = json_document([line()])
    assert doc["count"] == 1
    (attempt,) = doc["attempts"]  # type: ignore[misc]
    assert attempt["started_at"] == NOW
    assert attempt["started_at_local"].isoformat() == "2026-11-19T12:00:00+05:00"
    assert attempt["timezone"] == "Asia/Yekaterinburg" and attempt["transcript"] == (
        "перезвоните завтра"
    )


# ---- the filters -----------------------------------------------------------------------------


def test_filters_pass_through_checked() -> None:
    where = filters(status="pending", outcome="no_answer", tenant="north")
    assert (where.status, where.outcome, where.tenant) == ("pending", "no_answer", "north")
    assert where.phone is None and where.since is None


@pytest.mark.parametrize("spelling", ["8 (912) 345-67-89", "+7 912 345 67 89", "9123456789"])
def test_the_phone_filter_reads_any_spelling(spelling: str) -> None:
    assert filters(phone=spelling).phone == "+79123456789"


def test_since_without_a_zone_is_in_the_given_zone_and_spans_go_back_from_now() -> None:
    assert filters(since="2026-11-19T10:00").since == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    assert filters(since="2026-11-19T10:00", since_tz="UTC").since == datetime(
        2026, 11, 19, 10, 0, tzinfo=UTC
    )
    assert filters(since="12h").since == NOW - timedelta(hours=12)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"status": "done"}, "--status 'done': not a status; one of pending, active, confirmed"),
        ({"outcome": "ok"}, "--outcome 'ok': not an outcome; one of confirmed, declined"),
        ({"phone": "12"}, "--phone: phone '12': wrong number of digits"),
        ({"since": "yesterday"}, "--since: 'yesterday' is not a time; give an ISO time"),
        ({"since": "3w"}, "or a span back from now (45s, 30m, 12h, 7d)"),
        ({"limit": 0}, "--limit 0: give 1 or more"),
    ],
)
def test_bad_filters_say_what_is_accepted(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as e:
        filters(**kw)
    assert message in str(e.value)


def test_a_bad_status_names_every_allowed_one() -> None:
    with pytest.raises(InputError) as e:
        filters(status="x")
    assert all(s.value in str(e.value) for s in Status)


# ---- status and notify add -------------------------------------------------------------------


def test_status_document_has_every_status() -> None:
    later = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    doc = status_document({"pending": 2, "invalid": 1}, 1, later, {"manual": 1}, 3, {"pending": 1})
    assert list(doc["notifications"]) == [s.value for s in Status]  # type: ignore[call-overload]
    assert doc["notifications"]["pending"] == 2 and doc["notifications"]["confirmed"] == 0  # type: ignore[index]
    assert (doc["total"], doc["due_now"], doc["next_attempt_at"]) == (3, 1, later)
    assert (doc["outbox_waiting"], doc["outbox_waiting_by_source"]) == (1, {"manual": 1})
    assert doc["sms_requests"] == {"pending": 1, "failed": 0, "sent": 0}


def test_a_refusal_leads_with_the_option_to_fix() -> None:
    assert refusal("variables", "scenario 'x': variable 'order' is missing") == (
        "notify add: --var: scenario 'x': variable 'order' is missing; nothing stored"
    )
    assert refusal("", "no window") == "notify add: no window; nothing stored"
    parser = build_parser()
    add = parser.parse_args(["notify", "add", "--phone", "1", "--scenario", "s"])
    for option in FIELD_OPTIONS.values():  # every option named is one `notify add` has
        assert hasattr(add, option[2:].replace("-", "_")), option


# ---- exit codes ------------------------------------------------------------------------------


def test_the_help_documents_the_exit_codes_the_code_uses() -> None:
    help_text = build_parser().format_help()
    assert "exit status:" in help_text
    codes = [int(ln.split()[0]) for ln in EXIT_CODES.splitlines() if ln[:5].strip().isdigit()]
    assert codes == [0, 1, 2, 3, 130]
    assert NOT_ANSWERED == 3 and EXIT_NOT_GOAL == 3
    assert "`call` was not answered, `scenario simulate` ended without the goal" in help_text
