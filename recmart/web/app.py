"""The website's read path: a tiny WSGI app over the recommendation store (served by waitress, see server.py).

    GET /users/{id}/recommendations   the stored item as JSON, each item with the product's
                                      `name` added; 404 JSON for a user without one
    GET /users/{id}                   an HTML page of the user's recommendations
    GET /?user={id}                   redirects to /users/{id}; without it, a look-up form
    GET /healthz                      {"ok": true}

HEAD answers every GET route with its headers and no body. `{id}` is one path segment,
percent-decoded once as UTF-8, so `%2F` is a slash inside the id and never a separator.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from importlib import resources
from urllib.parse import parse_qs, quote, unquote_to_bytes, urlsplit

from recmart.realtime.store import RecommendationStore
from recmart.web import pages

log = logging.getLogger(__name__)

_STATUS = {200: "200 OK", 303: "303 See Other", 400: "400 Bad Request", 404: "404 Not Found",
           405: "405 Method Not Allowed", 500: "500 Internal Server Error"}
# On every response: a browser must not guess a type other than the one sent (a JSON body that
# echoes a user id must never be sniffed as HTML).
_ALWAYS = [("X-Content-Type-Options", "nosniff")]

Response = tuple[int, list[tuple[str, str]], bytes]


def recommendations_with_names(store: RecommendationStore, user_id: str) -> dict | None:
    """The stored item, each recommendation with its product's name (None when unknown)."""
    recs = store.get_recommendations(user_id)
    if recs is None:
        return None
    products = store.get_products([i["product_id"] for i in recs["items"]])
    items = [{**i, "name": products[i["product_id"]].name if i["product_id"] in products else None}
             for i in recs["items"]]
    return {**recs, "items": items}


def _raw_path(environ: dict) -> tuple[bytes, bool]:
    """The request's path as the client sent it (bytes), and whether it is still percent-encoded.

    PATH_INFO is already percent-decoded by the server, so `/users/a%2Fb` and `/users/a/b` look
    the same there; the request target (waitress' REQUEST_URI, gunicorn's RAW_URI) keeps them
    apart. WSGI carries both as Latin-1 strings of the request's bytes (PEP 3333).
    """
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if target:
        raw = target.encode("latin-1")
        if not raw.startswith(b"/"):  # absolute form, "http://host/path?q"
            return urlsplit(raw).path or b"/", True
        return raw.partition(b"?")[0], True
    return environ.get("PATH_INFO", "/").encode("latin-1"), False


def _segments(environ: dict) -> list[str]:
    """The path's segments, each decoded once as UTF-8; UnicodeDecodeError when one is not UTF-8."""
    raw, encoded = _raw_path(environ)
    raw = raw.strip(b"/")
    if not raw:
        return []
    return [(unquote_to_bytes(p) if encoded else p).decode("utf-8") for p in raw.split(b"/")]


class RecommendationsApp:
    def __init__(self, store: RecommendationStore) -> None:
        self.store = store
        self._css = resources.files("recmart.web").joinpath("static/style.css").read_bytes()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            status, headers, body = self._json(405, {"error": "method_not_allowed", "allowed": ["GET", "HEAD"]})
            headers.append(("Allow", "GET, HEAD"))
        else:
            status, headers, body = self._respond(environ)
        start_response(_STATUS[status], headers + _ALWAYS)
        # HEAD: the same headers as GET (Content-Length included), and no body: a body here would
        # be read as the start of the next response on a kept-alive connection.
        return [b""] if method == "HEAD" else [body]

    def _respond(self, environ: dict) -> Response:
        try:
            parts = _segments(environ)
        except UnicodeDecodeError:
            return self._json(400, {"error": "bad_request", "detail": "the path is not UTF-8"})
        try:
            if parts == []:
                query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
                user = parse_qs(query).get("user", [""])[0].strip()
                if user:
                    return 303, [("Location", f"/users/{quote(user, safe='')}"), ("Content-Length", "0")], b""
                return self._html(200, pages.home())
            if parts == ["healthz"]:
                return self._json(200, {"ok": True})
            if parts == ["static", "style.css"]:
                return 200, [("Content-Type", "text/css; charset=utf-8"), ("Content-Length", str(len(self._css)))], \
                    self._css
            if len(parts) == 3 and parts[0] == "users" and parts[2] == "recommendations" and parts[1]:
                recs = recommendations_with_names(self.store, parts[1])
                if recs is None:
                    return self._json(404, {"error": "not_found", "user_id": parts[1],
                                            "detail": "no recommendations for this user"})
                return self._json(200, recs)
            if len(parts) == 2 and parts[0] == "users" and parts[1]:
                recs = recommendations_with_names(self.store, parts[1])
                return self._html(200 if recs else 404, pages.user_page(parts[1], recs))
        except Exception:  # noqa: BLE001 - a store outage is a 500, not a dropped connection
            # The error's text can name files and hosts of the deployment: it goes to the log, and
            # the client learns only that the store failed.
            log.exception("store read failed for %s", _raw_path(environ)[0].decode("utf-8", "replace"))
            return self._json(500, {"error": "store_unavailable"})
        return self._json(404, {"error": "not_found", "path": "/" + "/".join(parts)})

    @staticmethod
    def _json(status: int, body: dict) -> Response:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data

    @staticmethod
    def _html(status: int, page: str) -> Response:
        data = page.encode("utf-8")
        return status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data)))], data
