"""Every error cuckoo raises on purpose, as one tree (the shape httpx uses for its exceptions).

    CuckooError                  base; `retryable` says whether trying again later can help
     ├── ConfigError             bad cuckoo.toml, scenario, voice or lexicon file; names file:line
     ├── InputError              bad data from an ERP row or the CLI (phone, scenario, variables)
     │    ├── RowError           (adapters.mapping) one ERP row cannot become a notification
     │    └── MessageTooLong     an SMS text of more than 255 parts
     ├── ErpUnavailable          the ERP is down or answered 5xx              retryable
     ├── StoreUnavailable        the store's database is down, full or locked   retryable
     ├── SpeechError
     │    ├── TtsError           a synthesizer failed or is missing
     │    ├── AsrError           the Vosk model is missing or unusable
     │    └── ModelError         a model download failed or was refused
     │         └── OfflineError  the model host cannot be reached            retryable
     └── TelephonyError
          ├── EngineError        pjsua2 did not start, or a call object is gone
          │    └── TooManyCalls  the process already holds its 4 calls       retryable
          └── PoolStopping       a call was submitted while the call workers stop

Code that must survive any failure of a part (a call worker, the scheduler loop) still catches
`Exception`; everything else catches the narrowest class that fits.
"""

from __future__ import annotations


class CuckooError(Exception):
    retryable: bool = False


class ConfigError(CuckooError):
    pass


class InputError(CuckooError):
    pass


class MessageTooLong(InputError):
    """More than 255 parts: no phone can reassemble it."""


class ErpUnavailable(CuckooError):
    retryable = True


class StoreUnavailable(CuckooError):
    """The store's database cannot be reached or written now (server down, connection lost,
    disk full, file locked): the worker keeps results in its journal and tries again."""

    retryable = True


class SpeechError(CuckooError):
    pass


class TtsError(SpeechError):
    """A synthesizer failed or is not installed."""


class AsrError(SpeechError):
    """The ASR model is missing or unusable."""


class ModelError(SpeechError):
    """A download failed, was refused (bad hash) or the archive is unusable."""


class OfflineError(ModelError):
    """The model host cannot be reached."""

    retryable = True


class TelephonyError(CuckooError):
    pass


class EngineError(TelephonyError):
    pass


class TooManyCalls(EngineError):
    retryable = True


class PoolStopping(TelephonyError):
    """A call was submitted while the call workers are stopping."""
