"""Click events as the handler sees them: decoded from Kinesis and checked against the contract.

The rules are those of the click-event contract in DESIGN.md (the field lists come from
`recmart.tables`, the one place they are written down): required fields present and
non-empty strings, `event_type` one of the known types, `event_time` ISO-8601 with a
zone. Unknown extra fields are ignored.

The real-time path adds what its stores need, so that no record it accepts can make a
store fail (which would hold up the whole batch behind it, retry after retry):

- the identifiers it stores (`event_id`, `user_id`, `product_id`) are valid Unicode text
  (no lone surrogate, which no UTF-8 store can write) of at most MAX_ID_BYTES bytes in
  UTF-8: DynamoDB's limit for a partition key (`user_id` and `product_id` are partition
  keys, and the tables have no sort key; see store/dynamodb_tables.py). The SQLite store
  accepts longer ones, but both stores must accept the same records;
- `event_time` is at most FUTURE_SKEW_MINUTES after the record's arrival in the stream,
  as the batch path bounds it by Firehose's arrival: a click from the future would
  otherwise become the user's clock (histories are trimmed relative to the newest event).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from recmart.realtime.jsontext import loads
from recmart.realtime.timeutil import FUTURE_SKEW_MINUTES, iso_to_micros, micros_to_iso
from recmart.tables import CLICK_FIELDS, EVENT_TYPES, REQUIRED_CLICK_FIELDS

_OPTIONAL_TEXT = tuple(f for f in CLICK_FIELDS if f not in REQUIRED_CLICK_FIELDS and f not in ("user_id", "price"))

MAX_ID_BYTES = 2048  # DynamoDB's partition key limit, UTF-8 bytes (a sort key would have 1024)
FUTURE_SKEW_MICROS = FUTURE_SKEW_MINUTES * 60_000_000
MAX_DETAIL_CHARS = 1_000  # a detail quotes the input: keep dead letters and log lines small


class InvalidClick(ValueError):
    """A record that can never be applied: retrying it would not help."""

    def __init__(self, reason: str, detail: str) -> None:
        if len(detail) > MAX_DETAIL_CHARS:
            detail = detail[: MAX_DETAIL_CHARS - 3] + "..."
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


def _check_identifier(name: str, value: str) -> None:
    if value.isascii():  # the usual case: one byte a character, no surrogates
        if len(value) > MAX_ID_BYTES:
            raise InvalidClick("bad_identifier", f"{name} is {len(value)} bytes of UTF-8, more than {MAX_ID_BYTES}")
        return
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidClick("bad_identifier", f"{name} cannot be written as UTF-8 (a lone surrogate): "
                                             f"{ascii(value)[:200]}") from None
    if size > MAX_ID_BYTES:
        raise InvalidClick("bad_identifier", f"{name} is {size} bytes of UTF-8, more than {MAX_ID_BYTES}")


def validate_click(obj: object, arrival_micros: int | None = None) -> Click:
    """The click in `obj`, or InvalidClick saying what is wrong with it.

    `arrival_micros` is when the record reached the stream (epoch microseconds); an
    event time more than FUTURE_SKEW_MINUTES after it is refused. None: no bound.
    """
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
    if arrival_micros is not None and event_micros > arrival_micros + FUTURE_SKEW_MICROS:
        raise InvalidClick("event_time_in_future",
                           f"event_time {obj['event_time']!r} is more than {FUTURE_SKEW_MINUTES} minutes after the "
                           f"record's arrival ({micros_to_iso(arrival_micros)})")
    user_id = obj.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise InvalidClick("bad_type", "user_id must be a non-empty string or null")
    _check_identifier("event_id", obj["event_id"])
    _check_identifier("product_id", obj["product_id"])
    if user_id is not None:
        _check_identifier("user_id", user_id)
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


def decode_kinesis_data(data: object, arrival_micros: int | None = None) -> Click:
    """The click carried base64-encoded in a Kinesis record's `data` (see `validate_click`)."""
    if not isinstance(data, str):
        raise InvalidClick("not_base64", "kinesis.data is missing")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidClick("not_base64", "kinesis.data is not valid base64") from None
    try:
        obj = loads(raw)  # the bytes: UTF-8 is checked on the way
    except UnicodeDecodeError:
        raise InvalidClick("not_utf8", "the record is not UTF-8 text") from None
    except ValueError as exc:
        raise InvalidClick("not_json", f"the record is not JSON ({exc})") from None
    except RecursionError:
        raise InvalidClick("not_json", "the record's JSON is nested too deeply") from None
    return validate_click(obj, arrival_micros)
