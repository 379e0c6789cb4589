"""Telephony: the robot's mouth and ears on the phone network (pjsua2). Only this package
imports pjsua2, and nothing here imports it at package import time.

- engine.py    one thread per process owns the pjsua2 Endpoint; CallHandle; media ports
- session.py   dial() → DialResult (outcome of an unanswered call), SipLine (cuckoo.line.Line)
- outcomes.py  dial facts and SIP/Q.850 codes → Outcome (outcome_for_sip)
- amd.py       answering-machine detection from the far end's audio
- dtmf.py      in-band DTMF: Goertzel detector and tone generator (pure numpy)
- dialplan.py  number → SIP URI through the trunk's dial plan
- calls.py     run_call(CallRequest) → CallReport: dial, converse over a SipLine, hang up;
               SayAndWait, the conversation of `cuckoo call`
- pool.py      call worker processes (≤ 4 calls each), CallPool, CallChannel (domain.Channel)
- simphone.py  a scripted customer phone for tests and the demo (`cuckoo sim-phone`)

Telephony imports the neutral seams (cuckoo.line: Line, Audio, the call leg, the speech
protocols) and never cuckoo.speech or cuckoo.dialog: the voice and the conversation are handed
to it as objects.
"""
