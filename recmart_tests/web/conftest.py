"""A recommendation store with a snapshot and one user's recommendations, served on an ephemeral port."""

from __future__ import annotations

import contextlib
import threading

import pytest

from recmart.realtime.config import HandlerConfig
from recmart.realtime.dead_letters import MemoryDeadLetters
from recmart.realtime.handler import Handler
from recmart.realtime.kinesis import Shard, batch_event
from recmart.realtime.store.base import ProductInfo
from recmart.realtime.store.sqlite import SqliteStore
from recmart.web.server import make_recommendations_server

# Ids a URL has to carry encoded: non-ASCII (UTF-8 percent-encoded) and one with a slash (%2F).
OTHER_USERS = ("zoë", "x/y")

NAMES = {"P1": "Navy Blue Linen Shirt", "P2": "White Canvas Sneakers", "P3": "Red <Silk> Scarf & Co",
         "P4": "Black Leather Belt"}


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "recommendations.sqlite"
    store = SqliteStore(path)
    store.load_snapshot(
        {"P0": [("P1", 0.9), ("P2", 0.5), ("P3", 0.4)]}, {"all": [("P4", 10.0)]}, "2026-11-19",
        products={pid: ProductInfo(name, "Apparel") for pid, name in {"P0": "Grey Hoodie", **NAMES}.items()},
    )
    shard = Shard()
    clicks = [{"event_id": f"e{n}", "event_type": "view", "event_time": "2026-11-20T10:00:00Z", "session_id": "s",
               "user_id": user, "product_id": "P0"} for n, user in enumerate(("alice", *OTHER_USERS))]
    Handler(store, MemoryDeadLetters(), HandlerConfig()).process(batch_event([shard.record(c) for c in clicks]))
    store.close()
    return path


@contextlib.contextmanager
def serving(store, **options):
    """The server of `recmart serve` on an ephemeral port of 127.0.0.1, in a thread; yields the server."""
    server = make_recommendations_server(store, "127.0.0.1", 0, quiet=True, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def server_url(store_path):
    store = SqliteStore(store_path)
    with serving(store) as server:
        yield f"http://127.0.0.1:{server.server_port}"
    store.close()
