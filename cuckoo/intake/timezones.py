"""The customer's time zone: an IANA name, from the ERP's field, else the number, else the
tenant's. Pure (the zone database and ru-phone-parser's data are read, nothing else)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuckoo.errors import InputError
from cuckoo.intake.phones import timezone_for_number

__all__ = ["resolve_timezone", "valid_zone"]


def valid_zone(name: str) -> bool:
    """Whether `name` is a zone of the IANA database ('Europe/Moscow'; not 'MSK' or 'UTC+3')."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def resolve_timezone(erp_tz: str | None, phone_e164: str, tenant_tz: str) -> str:
    """The customer's IANA zone: the ERP's field, else from the number, else the tenant's.

    A zone name from the ERP that is not an IANA name is bad input (InputError), not silently
    replaced: it would mean calling someone at the wrong hour.
    """
    if erp_tz is not None and erp_tz.strip():
        name = erp_tz.strip()
        if not valid_zone(name):
            raise InputError(
                f"time zone {erp_tz!r}: not an IANA zone name (e.g. 'Europe/Moscow', "
                "'Asia/Yekaterinburg')"
            )
        return name
    return timezone_for_number(phone_e164) or tenant_tz
