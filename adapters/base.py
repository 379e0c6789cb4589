"""What the built-in adapters share: common options and the handling of rejected rows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from adapters.mapping import ALL_FIELDS, RowDefaults, RowError, parse_timezone
from cuckoo.domain import ChannelKind, ResultReport, Status
from cuckoo.errors import CuckooError
from cuckoo.result_texts import Language, ResultWording

log = logging.getLogger("cuckoo.adapters")


class CommonOptions(BaseModel):
    """Options every built-in adapter understands (see cuckoo.toml, [adapters.NAME])."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Used when a row has no scenario / channel / tenant column (or it is blank).
    default_scenario: str | None = None
    default_channel: ChannelKind = ChannelKind.CALL
    tenant: str = "default"
    # Zone of naive dates/times in the ERP (what managers type), and of times written back.
    erp_timezone: str = "UTC"
    # notification field → ERP column/field, when the names differ
    fields: dict[str, str] = {}
    # template variable → column; unset: every unmapped column becomes a variable
    variables: dict[str, str] | None = None
    # Write rows that cannot be read (bad date, unknown channel...) back as status "invalid"
    # so the manager sees why; otherwise they are only logged.
    report_invalid: bool = True
    # What the ERP is told: "ru" = Russian status and outcome names and a Russian result text
    # in `detail` (cuckoo.result_texts); "en" = the English codes and details as the store
    # keeps them (ERPs integrated before). status_code/outcome_code are the codes either way.
    results: Language = "ru"
    # [adapters.NAME.status_names]: status code → the name sent instead (confirmed = "1")
    status_names: dict[str, str] = {}

    @field_validator("status_names")
    @classmethod
    def _statuses(cls, v: dict[str, str]) -> dict[str, str]:
        codes = [s.value for s in Status]
        unknown = sorted(set(v) - set(codes))
        if unknown:
            raise ValueError(f"unknown status(es) {unknown}; known: {', '.join(codes)}")
        return v

    @field_validator("erp_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return parse_timezone(v)

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(ALL_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {', '.join(ALL_FIELDS)}")
        return v

    def row_defaults(
        self, ignore: Iterable[str] = (), ignore_suffixes: tuple[str, ...] = ()
    ) -> RowDefaults:
        return RowDefaults(
            scenario=self.default_scenario,
            channel=self.default_channel,
            tenant=self.tenant,
            erp_timezone=self.erp_timezone,
            fields=dict(self.fields),
            variables=None if self.variables is None else dict(self.variables),
            ignore=frozenset(ignore),
            ignore_suffixes=ignore_suffixes,
        )

    def wording(self) -> ResultWording:
        """How this adapter's results are written back (see `results`, `status_names`)."""
        return ResultWording(self.results, dict(self.status_names), self.erp_timezone)


class RejectedRows:
    """Logs each bad row once per process and, if asked, writes it back as INVALID."""

    def __init__(self, source: str, report: Callable[[ResultReport], None], enabled: bool):
        self.source = source
        self._report = report
        self._enabled = enabled
        self._seen: set[tuple[str | None, str]] = set()
        self._reported: set[str] = set()

    def handle(
        self, errors: Iterable[RowError], where: Callable[[RowError], str], quiet: bool = False
    ) -> None:
        """`quiet`: the caller has logged the rows already."""
        for err in errors:
            key = (err.external_id, err.reason)
            if key not in self._seen and not quiet:
                self._seen.add(key)
                log.warning("%s: %s: row rejected: %s", self.source, where(err), err.reason)
            if not self._enabled or err.external_id is None:
                continue
            if err.external_id in self._reported:
                continue
            report = ResultReport(
                source=self.source,
                external_id=err.external_id,
                status=Status.INVALID,
                outcome=None,
                attempts=0,
                contacts=0,
                last_attempt_at=None,
                detail=f"rejected by cuckoo: {err.reason}",
            )
            try:
                self._report(report)
            except CuckooError as e:  # the row stays pending in the ERP; tried again next poll
                log.warning(
                    "%s: cannot write back rejection of %s: %s", self.source, err.external_id, e
                )
                continue
            self._reported.add(err.external_id)


def option_error_text(name: str, errors: list[Any]) -> str:
    """pydantic errors → lines naming adapters.NAME.key."""
    lines = []
    for err in errors:
        key = ".".join(str(p) for p in err["loc"])
        where = f"adapters.{name}.{key}" if key else f"adapters.{name}"
        lines.append(f"[{where}] {err['msg']}")
    return "\n".join(lines)
