"""The sample store's registered users, made with Faker.

Faker is slow per call, so it fills small pools of names and cities per locale once, and
numpy combines them for any number of users, chunk by chunk.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator

import numpy as np
from faker import Faker

# (Faker locale, country, share of users)
_LOCALES = (
    ("en_GB", "United Kingdom", 22), ("de_DE", "Germany", 18), ("fr_FR", "France", 14),
    ("en_US", "United States", 14), ("en_IN", "India", 12), ("es_ES", "Spain", 8),
    ("it_IT", "Italy", 7), ("nl_NL", "Netherlands", 5),
)
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
GENDERS = ("female", "male")
_POOL = 150


def user_id(number: int) -> str:
    """The id of the `number`-th sample user (1-based), fixed-width so ids sort by number."""
    return f"U{number:07d}"


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z]", "", folded) or "user"


def _pools(seed: int) -> list[dict]:
    pools = []
    for n, (locale, country, _) in enumerate(_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 1009 + n)
        pools.append({
            "country": country,
            "female": [fake.first_name_female() for _ in range(_POOL)],
            "male": [fake.first_name_male() for _ in range(_POOL)],
            "last": [fake.last_name() for _ in range(_POOL)],
            "city": [fake.city() for _ in range(40)],
        })
    return pools


def generate_users(count: int, seed: int, signed_up_before: dt.date, chunk: int = 50_000) -> Iterator[list[dict]]:
    """Rows of the users table, `chunk` at a time, ids U0000001.. in order.

    Everyone signed up in the four years before `signed_up_before`; a few have no gender,
    birth year or email, as in a real store.
    """
    pools = _pools(seed)
    shares = np.array([s for *_, s in _LOCALES], dtype=float)
    before = dt.datetime.combine(signed_up_before, dt.time.min)
    for first in range(0, count, chunk):
        n = min(chunk, count - first)
        rng = np.random.default_rng([seed, 0x05E25, first])
        locale = rng.choice(len(_LOCALES), size=n, p=shares / shares.sum())
        gender = rng.choice(3, size=n, p=[0.48, 0.47, 0.05])  # female, male, not given
        pick = rng.integers(0, 1 << 30, size=(n, 4))
        birth = np.clip(np.rint(rng.normal(1988, 11, size=n)), 1945, 2008).astype(int)
        no_birth = rng.random(n) < 0.03
        no_email = rng.random(n) < 0.005
        capitalised = rng.random(n) < 0.2
        signup_seconds = rng.integers(3600, 4 * 365 * 86400, size=n)
        rows = []
        for k in range(n):
            pool = pools[locale[k]]
            sex = GENDERS[gender[k]] if gender[k] < 2 else None
            first_names = pool[sex or GENDERS[pick[k, 3] % 2]]
            given = first_names[pick[k, 0] % len(first_names)]
            family = pool["last"][pick[k, 1] % len(pool["last"])]
            number = first + k + 1
            local = f"{_ascii_word(given)}.{_ascii_word(family)}{number}"
            email = f"{local if capitalised[k] else local.lower()}@{_DOMAINS[number % len(_DOMAINS)]}"
            rows.append({
                "user_id": user_id(number),
                "email": None if no_email[k] else email,
                "name": f"{given} {family}",
                "gender": sex,
                "birth_year": None if no_birth[k] else int(birth[k]),
                "city": pool["city"][pick[k, 2] % len(pool["city"])],
                "country": pool["country"],
                "signup_at": before - dt.timedelta(seconds=int(signup_seconds[k])),
            })
        yield rows
