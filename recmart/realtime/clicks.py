"""Click events as the handler sees them: decoded from Kinesis and checked against the contract.

The rules are those of the click-event contract in DESIGN.md (the field lists come from
`recmart.tables`, the one place they are written down): required fields present and
non-empty strings, `event_type` one of the known types, `event_time` ISO-8601 with a
zone. Unknown extra fields are ignored.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from recmart.realtime.jsontext import loads
from recmart.realtime.timeutil import iso_to_micros
from recmart.tables import CLICK_FIELDS, EVENT_TYPES, REQUIRED_CLICK_FIELDS

_OPTIONAL_TEXT = tuple(f for f in CLICK_FIELDS if f not in REQUIRED_CLICK_FIELDS and f not in ("user_id", "price"))


class InvalidClick(ValueError):
    """A record that can never be applied: retrying it would not help."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # machine-readable, like the quarantine table's reasons
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Click:
    event_id: str
    event_type: str
    event_micros: int  # event_time in UTC, microseconds since the epoch
    session_id: str
    user_id: str | None  # None: an anonymous visitor
    product_id: str


def validate_click(obj: object) -> Click:
    """The click in `obj`, or InvalidClick saying what is wrong with it."""
    if not isinstance(obj, dict):
        raise InvalidClick("not_object", f"a click is a JSON object, got {type(obj).__name__}")
    for name in REQUIRED_CLICK_FIELDS:
        value = obj.get(name)
        if value is None:
            raise InvalidClick("missing_field", f"{name} is required")
        if not isinstance(value, str) or not value:
            raise InvalidClick("bad_type", f"{name} must be a non-empty string")
    if obj["event_type"] not in EVENT_TYPES:
        raise InvalidClick("bad_event_type", f"event_type {obj['event_type']!r} is not one of {list(EVENT_TYPES)}")
    try:
        event_micros = iso_to_micros(obj["event_time"])
    except ValueError as exc:
        raise InvalidClick("bad_event_time", str(exc)) from None
    user_id = obj.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise InvalidClick("bad_type", "user_id must be a non-empty string or null")
    price = obj.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, (int, float))):
        raise InvalidClick("bad_type", "price must be a number")
    for name in _OPTIONAL_TEXT:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidClick("bad_type", f"{name} must be a string")
    return Click(
        event_id=obj["event_id"],
        event_type=obj["event_type"],
        event_micros=event_micros,
        session_id=obj["session_id"],
        user_id=user_id,
        product_id=obj["product_id"],
    )


def decode_kinesis_data(data: object) -> Click:
    """The click carried base64-encoded in a Kinesis record's `data`."""
    if not isinstance(data, str):
        raise InvalidClick("not_base64", "kinesis.data is missing")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidClick("not_base64", "kinesis.data is not valid base64") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidClick("not_utf8", "the record is not UTF-8 text") from None
    try:
        obj = loads(text)
    except ValueError as exc:
        raise InvalidClick("not_json", f"the record is not JSON ({exc})") from None
    return validate_click(obj)
