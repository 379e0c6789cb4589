"""What every route of the console and the API shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cuckoo.clock import utcnow
from cuckoo.config import Config
from cuckoo.store import Store
from cuckoo.web.security import LoginLimiter


@dataclass
class WebContext:
    store: Store
    config: Config
    clock: Callable[[], datetime] = utcnow
    # The worker of this process (`cuckoo run` with [web] listen); None: `cuckoo web` alone.
    worker_health: Callable[[], str | None] | None = None  # None: healthy; else what is wrong
    erp_poll_errors: Callable[[], dict[str, int]] | None = None
    tts_counts: Callable[[], tuple[int, int]] | None = None  # (cache hits, synthesized)
    limiter: LoginLimiter = field(init=False)

    def __post_init__(self) -> None:
        web = self.config.web
        self.limiter = LoginLimiter(web.login_attempts, web.login_window_s)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.web.timezone or self.config.policy.default_timezone)

    @property
    def language(self) -> str:
        return self.config.web.language

    def api_source(self, tenant: str) -> str | None:
        """The `[adapters.NAME] type = "api"` that takes this tenant's notifications."""
        for name, a in self.config.adapters.items():
            if a.is_api and str(a.options().get("tenant", "default")) == tenant:
                return name
        return None

    def recordings_dir(self) -> Path | None:
        """Where call recordings are written; only files inside it are served."""
        tel = self.config.telephony
        return self.config.path(tel.record_dir).resolve() if tel.record_dir else None
