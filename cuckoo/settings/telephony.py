"""[telephony] section of cuckoo.toml. Placeholder until its owner fills it in."""

from pydantic import BaseModel, ConfigDict


class TelephonySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
