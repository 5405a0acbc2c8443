"""JSON text on the real-time path: msgspec's encoder and decoder, with json's answers where they differ.

Per record the handler parses a click; per user it reads a history and product records and
writes a history and recommendations. msgspec (a compiled library, shipped inside the Lambda
artefact: see package.py) does each in a fraction of the stdlib's time (bench/realtime/bench_json.py).

`loads(data)` is `json.loads(data)` for a str, and `json.loads(data.decode("utf-8"))` for bytes:
the same value or the same error (UnicodeDecodeError for bytes that are not UTF-8, then
ValueError with json's message, RecursionError). For standard JSON msgspec gives the same values
(exact integers, correctly rounded floats, the last of duplicate keys); what it refuses and
json.loads accepts (NaN and Infinity, a number beyond a double like 1e999, a lone surrogate
escape "\\ud800", more integer digits than `sys.get_int_max_str_digits()`) and everything
malformed, it refuses with an error, and then json.loads decides. So a click whose user_id is
"\\ud800" is still a bad_identifier rather than "not JSON", and a text stored with NaN still reads.
Nesting is refused by both at about the interpreter's recursion limit (within a few levels).

`dumps(obj)` is compact JSON, as `json.dumps(obj, separators=(",", ":"))` but with text as UTF-8
rather than \\u escapes; NaN and infinities are written as null. A str msgspec cannot write (a
lone surrogate), or a type it does not know, goes to that json.dumps. Rows written by json.dumps
before (escapes and all) read back as the same values.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
# msgspec's refusals: not JSON to it, a str it cannot read as UTF-8, too deep (json.loads may say why).
_REFUSED = (msgspec.DecodeError, UnicodeEncodeError, RecursionError)


def loads(data: str | bytes) -> Any:  # as json.loads: whatever the text holds
    try:
        return _decode(data)
    except _REFUSED:
        pass
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def dumps(obj: object) -> str:
    try:
        return _encode(obj).decode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return json.dumps(obj, separators=(",", ":"))
