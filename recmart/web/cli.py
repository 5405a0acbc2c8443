"""`recmart recs USER_ID` and `recmart serve`: read what the website reads."""

from __future__ import annotations

import json

import click

from recmart.realtime.store.factory import DEFAULT_STORE_URL, STORE_ENV

_store_option = click.option("--store", "store_url", envvar=STORE_ENV, default=DEFAULT_STORE_URL,
                             show_default=True, help=f"recommendation store URL [env {STORE_ENV}]")


def _open(store_url: str):
    """The store, for reading: a SQLite file that does not exist is an error, not a new empty store."""
    from pathlib import Path

    from recmart.realtime.store import open_store
    from recmart.realtime.store.factory import sqlite_path

    path = sqlite_path(store_url)
    if path and not Path(path).exists():
        raise click.ClickException(f"no recommendation store at {path}: run `recmart stream` (or load a snapshot) first")
    try:
        return open_store(store_url, setting="--store/" + STORE_ENV)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.command("recs")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="print the stored item as JSON")
@_store_option
def recs(user_id: str, as_json: bool, store_url: str) -> None:
    """Show USER_ID's current recommendations."""
    from recmart.web.app import recommendations_with_names

    with _open(store_url) as store:
        if as_json:
            item = store.get_recommendations(user_id)
            if item is None:
                raise click.ClickException(f"no recommendations for user {user_id!r} in {store_url}")
            click.echo(json.dumps(item, indent=2, sort_keys=True))
            return
        item = recommendations_with_names(store, user_id)
    if item is None:
        raise click.ClickException(f"no recommendations for user {user_id!r} in {store_url}")
    click.echo(f"{user_id}: {len(item['items'])} recommendations, updated {item['updated_at']}, "
               f"model {item['model_version']}")
    for rank, i in enumerate(item["items"], 1):
        click.echo(f"{rank:>3}  {i['product_id']:<12} {i['score']:>10.4g}  {i['reason']:<40} {i['name'] or ''}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@_store_option
def serve(host: str, port: int, store_url: str) -> None:
    """Serve GET /users/{id}/recommendations (JSON) and a small HTML page at /."""
    from recmart.web.server import make_recommendations_server

    store = _open(store_url)
    server = make_recommendations_server(store, host, port)
    click.echo(f"serving recommendations from {store_url} on http://{host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
