"""[policy] section of cuckoo.toml. Placeholder until its owner fills it in."""

from pydantic import BaseModel, ConfigDict


class PolicySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
