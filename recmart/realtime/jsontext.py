"""`json.loads` for the small JSON texts the handler parses on every click, without its overhead.

`json.loads(text)` wraps the C scanner in Python: type and BOM checks, and two regular
expressions for surrounding whitespace, about 1 us per call, which is most of the cost of
parsing a click or a short history. Texts written by the stores (and by well-behaved
producers) have no surrounding whitespace, so `loads` calls the scanner directly and hands
anything else (whitespace, a BOM, trailing data, not even a first value) to `json.loads`:
the result, or the error, is always exactly what `json.loads` gives.
"""

from __future__ import annotations

import json

_scan = json.JSONDecoder().scan_once  # the C scanner json.loads itself ends up in


def loads(text: str) -> object:
    try:
        value, end = _scan(text, 0)
    except StopIteration:  # no value at the start: json.loads says why
        return json.loads(text)
    if end != len(text):  # trailing whitespace or data: json.loads decides
        return json.loads(text)
    return value
