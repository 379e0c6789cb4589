"""[store] section of cuckoo.toml. Placeholder until its owner fills it in."""

from pydantic import BaseModel, ConfigDict


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
