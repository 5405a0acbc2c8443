"""The salt that pseudonymises personal data (ip, user agent, email) before it leaves raw."""

import dagster as dg
from pydantic import Field, field_validator


class PiiSalt(dg.ConfigurableResource):
    salt: str = Field(description="Secret salt for hashing personal data (RECMART_PII_SALT).")

    @field_validator("salt")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if len(value) < 8:
            raise ValueError("RECMART_PII_SALT must be at least 8 characters")
        return value
