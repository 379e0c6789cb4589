"""Telephony: the robot's mouth and ears on the phone network (pjsua2). Only this package
imports pjsua2, and nothing here imports it at package import time.

- engine.py    one thread per process owns the pjsua2 Endpoint; CallHandle; media ports
- session.py   dial() → DialResult (outcome of an unanswered call), SipLine (cuckoo.line.Line)
- outcomes.py  dial facts → Outcome, and the SIP/Q.850 table (outcome_for_sip)
- dtmf.py      in-band DTMF: Goertzel detector and tone generator (pure numpy)
- dialplan.py  number → SIP URI through the trunk's dial plan
- calls.py     run_call(): dial, converse over a SipLine, hang up → plain dict; say_and_wait
- pool.py      call worker processes (≤ 4 calls each), CallPool, CallChannel (domain.Channel)
- simphone.py  a scripted customer phone for tests and the demo (`cuckoo sim-phone`)
- espeak.py    a minimal espeak-ng synthesizer, the fallback of `cuckoo call --say`
"""
