"""[adapters.NAME] sections of cuckoo.toml: which ERPs to poll. Placeholder until filled in."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class AdapterSettings(BaseModel):
    """One adapter: `type` picks the module in adapters/, the rest goes to its constructor."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str
    enabled: bool = True

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
