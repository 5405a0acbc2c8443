"""Open a recommendation store from a URL, the one setting that picks the deployment.

    sqlite:///./.recmart/recommendations.sqlite   a relative path (three slashes)
    sqlite:////var/lib/recmart/recs.sqlite        an absolute path (four slashes)
    ./some/file.sqlite                            a bare path means SQLite too
    dynamodb://                                   DynamoDB, table names from recmart.names
    dynamodb://?region=eu-west-1&endpoint_url=http://localhost:8000&recommendations=my-recs
                                                  ... with a region, an endpoint, or any table
                                                  name overridden (fields of DynamoTables)
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlsplit

from recmart.realtime.store.base import RecommendationStore

STORE_ENV = "RECMART_RECS_STORE"
DEFAULT_STORE_URL = "sqlite:///./.recmart/recommendations.sqlite"


def sqlite_path(url: str) -> str | None:
    """The file a SQLite store URL names; None for other stores."""
    url = url.strip()
    if "://" not in url:
        return url
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):] or None
    return None


def parse_store_url(url: str | None = None, setting: str = STORE_ENV) -> tuple[str, dict]:
    """("sqlite", {"path"}) or ("dynamodb", {"region", "endpoint_url", "tables"}), opening nothing.

    `url` None reads the environment variable RECMART_RECS_STORE. A bad URL raises
    ValueError naming `setting`, the place the URL came from.
    """
    if url is None:
        url = os.environ.get(STORE_ENV) or DEFAULT_STORE_URL
    url = url.strip()
    if not url:
        raise ValueError(f"{setting} is empty; expected e.g. {DEFAULT_STORE_URL} or dynamodb://")
    parts = urlsplit(url)
    if "://" not in url or parts.scheme == "sqlite":
        path = sqlite_path(url)
        if not path:
            raise ValueError(f"{setting}={url!r}: a SQLite store URL is sqlite:///<path>")
        return "sqlite", {"path": path}
    if parts.scheme == "dynamodb":
        from recmart.realtime.store.dynamodb_tables import DynamoTables

        options = dict(parse_qsl(parts.query))
        region = options.pop("region", None) or parts.netloc or None
        endpoint_url = options.pop("endpoint_url", None)
        unknown = set(options) - set(DynamoTables.field_names())
        if unknown:
            raise ValueError(
                f"{setting}={url!r}: unknown option(s) {sorted(unknown)}; "
                f"known: region, endpoint_url, {', '.join(DynamoTables.field_names())}"
            )
        return "dynamodb", {"region": region, "endpoint_url": endpoint_url, "tables": DynamoTables(**options)}
    raise ValueError(f"{setting}={url!r}: unknown store scheme {parts.scheme!r}; use sqlite:///<path> or dynamodb://")


def open_store(url: str | None = None, setting: str = STORE_ENV) -> RecommendationStore:
    """The store `url` names (see `parse_store_url`)."""
    kind, options = parse_store_url(url, setting)
    if kind == "sqlite":
        from recmart.realtime.store.sqlite import SqliteStore

        return SqliteStore(options["path"])
    from recmart.realtime.store.dynamodb import DynamoDBStore

    return DynamoDBStore(**options)
