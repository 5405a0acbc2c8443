"""The website's read path: a tiny WSGI app over the recommendation store (standard library only).

    GET /users/{id}/recommendations   the stored item as JSON, each item with the product's
                                      `name` added; 404 JSON for a user without one
    GET /users/{id}                   an HTML page of the user's recommendations
    GET /?user={id}                   redirects to /users/{id}; without it, a look-up form
    GET /healthz                      {"ok": true}
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Callable, Iterable
from urllib.parse import parse_qs, quote, unquote

from recmart.realtime.store import RecommendationStore
from recmart.web import pages

_STATUS = {200: "200 OK", 303: "303 See Other", 404: "404 Not Found", 405: "405 Method Not Allowed",
           500: "500 Internal Server Error"}


def recommendations_with_names(store: RecommendationStore, user_id: str) -> dict | None:
    """The stored item, each recommendation with its product's name (None when unknown)."""
    recs = store.get_recommendations(user_id)
    if recs is None:
        return None
    products = store.get_products([i["product_id"] for i in recs["items"]])
    items = [{**i, "name": products[i["product_id"]].name if i["product_id"] in products else None}
             for i in recs["items"]]
    return {**recs, "items": items}


class RecommendationsApp:
    def __init__(self, store: RecommendationStore) -> None:
        self.store = store
        self._css = resources.files("recmart.web").joinpath("static/style.css").read_bytes()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        if method not in ("GET", "HEAD"):
            return self._json(start_response, 405, {"error": "method_not_allowed", "allowed": ["GET"]})
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        try:
            if parts == []:
                user = parse_qs(environ.get("QUERY_STRING", "")).get("user", [""])[0].strip()
                if user:
                    return self._redirect(start_response, f"/users/{quote(user, safe='')}")
                return self._html(start_response, 200, pages.home())
            if parts == ["healthz"]:
                return self._json(start_response, 200, {"ok": True})
            if parts == ["static", "style.css"]:
                start_response(_STATUS[200], [("Content-Type", "text/css; charset=utf-8"),
                                              ("Content-Length", str(len(self._css)))])
                return [self._css]
            if len(parts) == 3 and parts[0] == "users" and parts[2] == "recommendations" and parts[1]:
                recs = recommendations_with_names(self.store, parts[1])
                if recs is None:
                    return self._json(start_response, 404, {"error": "not_found", "user_id": parts[1],
                                                            "detail": "no recommendations for this user"})
                return self._json(start_response, 200, recs)
            if len(parts) == 2 and parts[0] == "users" and parts[1]:
                recs = recommendations_with_names(self.store, parts[1])
                return self._html(start_response, 200 if recs else 404, pages.user_page(parts[1], recs))
        except Exception as exc:  # noqa: BLE001 - a store outage is a 500 with a reason, not a dropped connection
            return self._json(start_response, 500, {"error": "store_unavailable", "detail": str(exc)})
        return self._json(start_response, 404, {"error": "not_found", "path": path})

    @staticmethod
    def _json(start_response, status: int, body: dict) -> list[bytes]:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        start_response(_STATUS[status], [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def _html(start_response, status: int, page: str) -> list[bytes]:
        data = page.encode("utf-8")
        start_response(_STATUS[status], [("Content-Type", "text/html; charset=utf-8"),
                                         ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def _redirect(start_response, location: str) -> list[bytes]:
        start_response(_STATUS[303], [("Location", location), ("Content-Length", "0")])
        return [b""]
