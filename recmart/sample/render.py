"""Click events -> NDJSON lines of the click-event contract, vectorised with Arrow.

A line is the concatenation of per-field fragments (`,"device":"mobile"` or nothing when
the field is absent). Fragments that depend on a product, user or session are computed
once per value and gathered with `take`; `binary_join_element_wise` joins them in C++, so
no Python runs per event. Malformed lines, a small share, are made in Python afterwards.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recmart.sample.sessions import DAY_MS, ClickBlock
from recmart.sample.store import SampleStore
from recmart.tables import EVENT_TYPES, REQUIRED_CLICK_FIELDS

SHOP_URL = "https://shop.recmart.example/p/"
# event_time zone designators: most producers send Z, some their local offset.
ZONES = ("Z", "+00:00", "+01:00", "+02:00", "-05:00", "+05:30")
_ZONE_MINUTES = np.array([0, 0, 60, 120, -300, 330], dtype=np.int64)
_ZONE_P = np.array([65, 5, 12, 8, 6, 4]) / 100
DEVICES = ("mobile", "desktop", "tablet")
_DEVICE_P = np.array([0.58, 0.31, 0.08, 0.03])  # the last: no device field
_USER_AGENTS = {
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "RecmartApp/4.12.0 (Android 13; SM-S911B)",
    ),
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
    ),
}
REFERRERS = (
    "https://www.google.com/", "https://www.instagram.com/", "https://www.bing.com/",
    "https://www.pinterest.com/", "https://newsletter.recmart.example/weekly",
)
_REFERRER_P = np.array([0.35, 0.3, 0.12, 0.05, 0.05, 0.13])  # the first: direct visit, no referrer
# Unknown fields some producers add; the raw layer keeps them, later layers ignore them.
EXTRA_FIELDS = (',"app_version":"4.12.0"', ',"experiment":"reco-b"', ',"consent":true', ',"screen":{"w":390,"h":844}')
EXTRA_SHARE = 0.01
NO_PRICE_SHARE = 0.04
NO_PAGE_URL_SHARE = 0.02
NO_USER_AGENT_SHARE = 0.01
NO_IP_SHARE = 0.01

MALFORMED_KINDS = ("not_json", "missing_field", "bad_event_type", "naive_event_time", "bad_price")
_BAD_EVENT_TYPES = ("purchase", "VIEW", "click", "add-to-cart")
_BAD_PRICES = ("N/A", "free", "12,99", -5.0)
_ZONE_SUFFIX = re.compile(r"(Z|[+-]\d{2}:\d{2})$")

_STR = pa.large_string()
# Lookup tables from a number to its ASCII digits, so formatting is one gather per field.
_HEX_PAIRS = np.array([list(f"{b:02x}".encode()) for b in range(256)], dtype=np.uint8)
_DIGITS = {width: np.array([list(f"{v:0{width}d}".encode()) for v in range(10**width)], dtype=np.uint8)
           for width in (2, 3, 4)}


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, _STR)


def _strings(values) -> pa.Array:
    return pa.array(list(values), _STR)


def _fixed_width(matrix: np.ndarray) -> pa.Array:
    """An (n, w) uint8 matrix of ASCII -> n strings of width w."""
    n, width = matrix.shape
    raw = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(np.ascontiguousarray(matrix))])
    return raw.cast(_STR)


def uuid_strings(raw: np.ndarray) -> pa.Array:
    """(n, 16) bytes -> canonical 8-4-4-4-12 hex uuid strings."""
    n = len(raw)
    pairs = _HEX_PAIRS[raw].reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst : dst + width] = pairs[:, src : src + width]
    return _fixed_width(out)


def _put_digits(out: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    out[:, column : column + width] = _DIGITS[width][values]


def iso_times(ms: np.ndarray) -> pa.Array:
    """Epoch milliseconds -> 'YYYY-MM-DDTHH:MM:SS.mmm' (no zone designator)."""
    days = ms // DAY_MS
    rest = ms - days * DAY_MS
    date = days.astype("datetime64[D]")
    month_start = date.astype("datetime64[M]")
    out = np.zeros((len(ms), 23), dtype=np.uint8)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord("T")
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord(".")
    _put_digits(out, 0, date.astype("datetime64[Y]").astype(np.int64) + 1970, 4)
    _put_digits(out, 5, month_start.astype(np.int64) % 12 + 1, 2)
    _put_digits(out, 8, (date - month_start).astype(np.int64) + 1, 2)
    _put_digits(out, 11, rest // 3_600_000, 2)
    _put_digits(out, 14, rest // 60_000 % 60, 2)
    _put_digits(out, 17, rest // 1000 % 60, 2)
    _put_digits(out, 20, rest % 1000, 3)
    return _fixed_width(out)


def _price_text(cents: np.ndarray) -> list[str]:
    return [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]


class LineRenderer:
    """Renders the click blocks of one store; per-product and per-user fragments are made once."""

    def __init__(self, store: SampleStore):
        ids = store.product_ids.tolist()
        prices = _price_text(store.product_price_cents)
        # Four fragments per product: with price and page_url, without price, without page_url,
        # without both (index = 4 * product + variant).
        fragments = []
        for pid, price, cents in zip(ids, prices, store.product_price_cents.tolist(), strict=True):
            head = f',"product_id":{json.dumps(pid)}'
            price_field = f',"price":{price}' if cents >= 0 else ""
            page_field = f',"page_url":{json.dumps(SHOP_URL + quote(pid, safe=""))}'
            fragments += [head + price_field + page_field, head + page_field, head + price_field, head]
        self.product = _strings(fragments)
        # The last entry is the anonymous visitor.
        self.user_id = _strings([*(f',"user_id":{json.dumps(u)}' for u in store.user_ids.tolist()), ',"user_id":null'])
        self.n_users = store.n_users
        self.event_type = _strings(f'","event_type":"{t}' for t in EVENT_TYPES)
        self.zone = _strings(f'{z}","session_id":"' for z in ZONES)
        self.device = _strings([*(f',"device":"{d}"' for d in DEVICES), ""])
        agents = [(d, a) for d in DEVICES for a in _USER_AGENTS[d]]
        self._agents_of = {d: np.array([i for i, (dd, _) in enumerate(agents) if dd == d]) for d in DEVICES}
        self._all_agents = len(agents)
        self.user_agent = _strings([*(f',"user_agent":{json.dumps(a)}' for _, a in agents), ""])
        self.referrer = _strings(["", *(f',"referrer":"{r}"' for r in REFERRERS)])
        self.extra = _strings(["", *EXTRA_FIELDS])

    def render(self, block: ClickBlock) -> pa.Array:
        """One NDJSON line (with its newline) per event of the block, in block order."""
        n, s = len(block), len(block.session_user)
        rng = np.random.default_rng([*block.rng_key, 3])
        if n == 0:
            return pa.array([], _STR)
        sess = pa.array(block.session)

        # Per session: time zone, ids, device, a user agent of that device, referrer, ip, all
        # joined once per session into the fragment that follows event_time.
        device = rng.choice(len(_DEVICE_P), size=s, p=_DEVICE_P)
        agent = np.full(s, self._all_agents)  # no user agent
        pick = rng.integers(0, 1 << 30, size=s)
        for d, name in enumerate(DEVICES):
            mine = np.flatnonzero(device == d)
            agent[mine] = self._agents_of[name][pick[mine] % len(self._agents_of[name])]
        unnamed = device == len(DEVICES)
        agent[unnamed] = self._agents_of["mobile"][pick[unnamed] % len(self._agents_of["mobile"])]
        agent[rng.random(s) < NO_USER_AGENT_SHARE] = self._all_agents
        referrer = rng.choice(len(_REFERRER_P), size=s, p=_REFERRER_P)
        zone = rng.choice(len(ZONES), size=s, p=_ZONE_P)
        octets = rng.integers(1, 255, size=(s, 4))
        octets[:, 0] = rng.integers(11, 224, size=s)
        ip = pc.binary_join_element_wise(
            _lit(',"ip":"'),
            pc.binary_join_element_wise(*(pc.cast(pa.array(octets[:, k]), _STR) for k in range(4)), _lit(".")),
            _lit('"'),
            _lit(""),
        )
        ip = pc.if_else(pa.array(rng.random(s) < NO_IP_SHARE), _lit(""), ip)
        user = np.where(block.session_user >= 0, block.session_user, self.n_users)
        per_session = pc.binary_join_element_wise(
            self.zone.take(pa.array(zone)), uuid_strings(block.session_id), _lit('"'),
            self.user_id.take(pa.array(user)),
            self.device.take(pa.array(device)),
            self.referrer.take(pa.array(referrer)),
            self.user_agent.take(pa.array(agent)),
            ip,
            _lit(""),
        )

        # Per event: the product fragment (with or without price and page_url) and extras.
        variant = (rng.random(n) < NO_PRICE_SHARE) * 1 + (rng.random(n) < NO_PAGE_URL_SHARE) * 2
        extra = np.where(rng.random(n) < EXTRA_SHARE, rng.integers(1, len(self.extra), size=n), 0)
        local_ms = block.event_ms + _ZONE_MINUTES[zone[block.session]] * 60_000
        return pc.binary_join_element_wise(
            _lit('{"event_id":"'), uuid_strings(block.event_id),
            self.event_type.take(pa.array(block.event_type)),
            _lit('","event_time":"'), iso_times(local_ms),
            per_session.take(sess),
            self.product.take(pa.array(block.product.astype(np.int64) * 4 + variant)),
            self.extra.take(pa.array(extra)),
            _lit("}\n"),
            _lit(""),
        )


def malformed_line(line: str, kind: str, variant: int) -> str:
    """A good line turned into one of the malformed kinds a cleaning step must quarantine."""
    if kind == "not_json":
        body = line.rstrip("\n")
        return (
            body[: len(body) // 2],  # cut off mid-record
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            f"[{body}]",  # JSON, but not an object
        )[variant % 3] + "\n"
    event = json.loads(line)
    if kind == "missing_field":
        field = REQUIRED_CLICK_FIELDS[variant % len(REQUIRED_CLICK_FIELDS)]
        if variant % 2:
            event[field] = ""  # present but blank
        else:
            del event[field]
    elif kind == "bad_event_type":
        event["event_type"] = _BAD_EVENT_TYPES[variant % len(_BAD_EVENT_TYPES)]
    elif kind == "naive_event_time":
        event["event_time"] = _ZONE_SUFFIX.sub("", event["event_time"])
    elif kind == "bad_price":
        event["price"] = _BAD_PRICES[variant % len(_BAD_PRICES)]
    else:
        raise ValueError(f"unknown malformed kind {kind!r}; one of {MALFORMED_KINDS}")
    return json.dumps(event, separators=(",", ":")) + "\n"


def malformed_lines(lines: pa.Array, rows: np.ndarray, kinds: np.ndarray, variants: np.ndarray) -> pa.Array:
    """Malformed versions of the given rows (kinds index MALFORMED_KINDS), in the order given."""
    return pa.array(
        [
            malformed_line(lines[r].as_py(), MALFORMED_KINDS[k], v)
            for r, k, v in zip(rows.tolist(), kinds.tolist(), variants.tolist(), strict=True)
        ],
        _STR,
    )


def with_malformed(lines: pa.Array, rows: np.ndarray, kinds: np.ndarray, variants: np.ndarray) -> pa.Array:
    """`lines` with the given rows replaced by malformed versions."""
    if not len(rows):
        return lines
    order = np.argsort(rows)
    mask = np.zeros(len(lines), dtype=bool)
    mask[rows] = True
    replacements = malformed_lines(lines, rows[order], kinds[order], variants[order])
    return pc.replace_with_mask(lines, pa.array(mask), replacements)
