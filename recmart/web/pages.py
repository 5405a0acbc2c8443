"""HTML of the demo website: rendered on the server, so a page is whole without JavaScript."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header><a href="/">recmart</a> · recommendations</header><main>
"""
_FOOT = "</main></body></html>\n"

_FORM = """<form action="/" method="get">
<label for="user">User id</label> <input id="user" name="user" value="{user}" required>
<button type="submit">Show recommendations</button></form>
"""


def _reason(reason: str) -> str:
    kind, _, what = reason.partition(":")
    if kind == "similar_to":
        return f"similar to {what}"
    if kind == "trending":
        return "trending" + ("" if what == "all" else f" in {what.partition('=')[2] or what}")
    return reason


def home() -> str:
    return _HEAD.format(title="recmart") + "<h1>Recommendations</h1>\n" + _FORM.format(user="") + _FOOT


def user_page(user_id: str, recs: dict | None) -> str:
    title = f"Recommendations for {escape(user_id)}"
    body = [_HEAD.format(title=title), f"<h1>{title}</h1>\n", _FORM.format(user=escape(user_id, quote=True))]
    if not recs:
        body.append('<p class="empty" id="not-found">No recommendations for this user yet.</p>\n')
        return "".join(body) + _FOOT
    body.append(f'<p class="meta">Updated {escape(recs["updated_at"])} · model {escape(recs["model_version"])} · '
                f'<a href="/users/{quote(user_id, safe="")}/recommendations">JSON</a></p>\n')
    if not recs["items"]:
        body.append('<p class="empty">Nothing to recommend yet.</p>\n')
        return "".join(body) + _FOOT
    body.append('<ol class="recommendations" id="recommendations">\n')
    for item in recs["items"]:
        name = item.get("name") or item["product_id"]
        body.append(
            f'<li data-product-id="{escape(item["product_id"], quote=True)}">'
            f'<span class="name">{escape(name)}</span> '
            f'<span class="id">{escape(item["product_id"])}</span> '
            f'<span class="reason">{escape(_reason(item["reason"]))}</span> '
            f'<span class="score">{item["score"]:.4g}</span></li>\n'
        )
    body.append("</ol>\n")
    return "".join(body) + _FOOT
