"""[adapters.NAME] sections of cuckoo.toml: which ERPs to poll.

Only `type` and `enabled` are checked here; every other key is the adapter's own option and is
validated by that adapter's pydantic `Options` model when `adapters.build_adapter` builds it
(errors name `adapters.NAME.key`). See adapters/__init__.py and the examples in cuckoo.toml.
"""

from pydantic import BaseModel, ConfigDict

from cuckoo.domain import JsonObject


class AdapterSettings(BaseModel):
    """One adapter: `type` is "sql", "onec", "csv" or "package.module:Class"; the other keys
    go to that adapter (see `options()`)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str
    enabled: bool = True

    def options(self) -> JsonObject:
        return dict(self.model_extra or {})

    @property
    def is_api(self) -> bool:
        """An enabled adapter of the HTTP API (adapters/api.py): notifications come through
        `cuckoo web`, results go to its webhook."""
        return self.enabled and self.type in ("api", "adapters.api:ApiAdapter")
