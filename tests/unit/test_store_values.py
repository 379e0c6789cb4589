"""Pure helpers of the store and its CLI: report JSON, UTC column type, time/var parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from cuckoo.cli.store_cmds import parse_time
from cuckoo.cli.variables import parse_vars
from cuckoo.domain import ChannelKind, Outcome, ResultReport, Status
from cuckoo.errors import InputError
from cuckoo.intake.admission import first_channel
from cuckoo.store import report_from_json, report_to_json
from cuckoo.store.migrate import migrations_dir
from cuckoo.store.models import UtcDateTime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "report",
    [
        ResultReport("erp", "1", Status.CONFIRMED, Outcome.CONFIRMED, 2, 1, NOW, dtmf="1"),
        ResultReport("erp", "2", Status.INVALID, None, 0, 0, None, detail="phone '12'"),
        ResultReport(
            "1c",
            "ф-3",
            Status.PENDING,
            Outcome.CALLBACK_REQUESTED,
            1,
            1,
            NOW,
            transcript="перезвоните завтра",
            callback_at=NOW + timedelta(days=1),
        ),
    ],
)
def test_report_json_round_trip(report: ResultReport) -> None:
    import json

    data = json.loads(json.dumps(report_to_json(report)))  # what the JSON column stores
    assert report_from_json(data) == report


@pytest.mark.parametrize(
    ("value", "dialect", "stored"),
    [
        (NOW, sqlite.dialect(), datetime(2026, 11, 23, 9, 0)),
        (
            datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=3))),
            sqlite.dialect(),
            datetime(2026, 11, 23, 9, 0),
        ),
        (NOW, postgresql.dialect(), NOW),
        (None, sqlite.dialect(), None),
    ],
)
def test_utc_datetime_binds_utc(value: datetime | None, dialect: object, stored: object) -> None:
    assert UtcDateTime().process_bind_param(value, dialect) == stored  # type: ignore[arg-type]


def test_utc_datetime_refuses_naive_and_returns_aware() -> None:
    t = UtcDateTime()
    with pytest.raises(ValueError, match="naive"):
        t.process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
    assert t.process_result_value(datetime(2026, 1, 1), sqlite.dialect()) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    moscow = datetime(2026, 1, 1, 3, 0, tzinfo=timezone(timedelta(hours=3)))
    back = t.process_result_value(moscow, postgresql.dialect())
    assert back == datetime(2026, 1, 1, tzinfo=UTC) and back.tzinfo == UTC


@pytest.mark.parametrize(
    ("channel", "first"),
    [
        (ChannelKind.CALL, ChannelKind.CALL),
        (ChannelKind.SMS, ChannelKind.SMS),
        (ChannelKind.CALL_THEN_SMS, ChannelKind.CALL),
    ],
)
def test_first_channel(channel: ChannelKind, first: ChannelKind) -> None:
    assert first_channel(channel) == first


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-12-01T18:00", "UTC", datetime(2026, 12, 1, 18, 0, tzinfo=UTC)),
        ("2026-12-01T18:00", "Europe/Moscow", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        ("2026-12-01T18:00+05:00", "Europe/Moscow", datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("2026-12-01", "UTC", datetime(2026, 12, 1, tzinfo=UTC)),
        ("30m", "UTC", NOW - timedelta(minutes=30)),
        ("12h", "UTC", NOW - timedelta(hours=12)),
        ("7d", "UTC", NOW - timedelta(days=7)),
        ("45s", "UTC", NOW - timedelta(seconds=45)),
    ],
)
def test_parse_time(text: str, tz: str, expected: datetime) -> None:
    assert parse_time(text, NOW, tz) == expected


@pytest.mark.parametrize("text", ["tomorrow", "12x", "2026-13-01", ""])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--since"):
        parse_time(text, NOW, what="--since")


def test_parse_vars() -> None:
    assert parse_vars(["order=A-17", "sum=1 500 ₽", "empty=", "eq=a=b"]) == {
        "order": "A-17",
        "sum": "1 500 ₽",
        "empty": "",
        "eq": "a=b",
    }
    assert parse_vars(["customer.first_name=Пётр", "customer.patronymic=Николаевич"]) == {
        "customer": {"first_name": "Пётр", "patronymic": "Николаевич"}
    }
    for bad in (["novalue"], ["=x"]):
        with pytest.raises(InputError, match="KEY=VALUE"):
            parse_vars(bad)
    with pytest.raises(InputError, match="not a group"):
        parse_vars(["a=1", "a.b=2"])


def test_migrations_are_found_without_an_alembic_ini(tmp_path: object, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    folder = migrations_dir()
    assert (folder / "env.py").is_file()
    assert any(p.name.startswith("0001") for p in (folder / "versions").iterdir())
