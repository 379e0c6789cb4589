"""Policy: the pure decisions about when and how often a customer is contacted.

- retry.py      what happens after each attempt: the outcome → status table, the barrier of
                contacts, the attempt caps, deadlines, callbacks, the call_then_sms fallback
                (`decide`), and the first attempt of a new notification (`first_attempt`)
- windows.py    calling windows: when a customer may be called or texted, in local time,
                Russian public holidays included
- late.py       a result that reaches the store after its lease was lost (reaped): does it
                still decide the notification, or is it only kept on its attempt row
- ratelimit.py  the token bucket behind every rate cap (attempts, INVITEs, SMS per second)

Nothing here does I/O or knows SIP: the clock is injected (`now` is a parameter, a Throttle
takes its clock and sleep as arguments), so every decision is tested with plain values.
Importers name the module: `from cuckoo.policy.retry import decide`.
"""
