"""Intake: what cuckoo decides about a notification before it is stored. Pure, no database.

- `phones`: a number as typed in an ERP → E.164, and the customer's zone from the number;
- `timezones`: the customer's IANA zone (the ERP's field, else the number's, else the tenant's);
- `admission`: `admit`, a row in → admitted (with its first attempt time) or rejected (with the
  final status and the reason reported to the ERP).

The package imports nothing on its own, so `cuckoo.intake.phones` stays light for its users.
"""
