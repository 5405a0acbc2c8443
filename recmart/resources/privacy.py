"""The salt that pseudonymises personal data (ip, user agent, email) before it leaves raw."""

import dagster as dg
from pydantic import Field, field_validator

from recmart.config import check_pii_salt


class PiiSalt(dg.ConfigurableResource):
    salt: str = Field(description="Secret salt for hashing personal data (RECMART_PII_SALT).")

    @field_validator("salt")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        return check_pii_salt(value)  # the settings' rule, so a run refuses what the load would
