"""Serve the WSGI app with waitress rather than a hand-rolled server.

Why waitress: connections are multiplexed on one event loop and only whole requests reach
its fixed pool of worker threads, so a client that connects and sends nothing (or half a
request) holds no thread, and `channel_timeout` closes it; it also bounds open connections
(`connection_limit`) and keeps HTTP/1.1 connections alive between requests.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from recmart.realtime.store import RecommendationStore
from recmart.web.app import RecommendationsApp

# A connection with no whole request in this many seconds is closed: long enough for a browser
# between clicks, short enough that idle sockets do not pile up.
IDLE_TIMEOUT_S = 30
THREADS = 4


def _access_log(app: Callable) -> Callable:
    """One line per request on stderr, as `recmart serve` printed before waitress (which logs none):
    `127.0.0.1 "GET /users/alice HTTP/1.1" 200 3063`."""

    def logged(environ: dict, start_response: Callable) -> Iterable[bytes]:
        def start(status: str, headers: list, exc_info=None):
            size = next((v for k, v in headers if k.lower() == "content-length"), "-")
            request = f'{environ.get("REQUEST_METHOD")} {environ.get("REQUEST_URI")} {environ.get("SERVER_PROTOCOL")}'
            sys.stderr.write(f'{environ.get("REMOTE_ADDR", "-")} "{request}" {status.split(" ", 1)[0]} {size}\n')
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return logged


class RecommendationsServer:
    """A waitress server with the socketserver-style life cycle the CLI and the tests use:
    `serve_forever()` in one thread, `shutdown()` from another, then `server_close()`."""

    def __init__(self, app: Callable, host: str, port: int, idle_timeout: int, threads: int) -> None:
        # Our own socket map, so the loop below can be run and stopped without waitress' run().
        self._map: dict = {}
        self._server = create_server(
            app, map=self._map, host=host, port=port, threads=threads, ident="recmart",
            channel_timeout=idle_timeout,
            # How often idle connections are looked for: twice per timeout, so one is
            # closed within about idle_timeout + idle_timeout / 2 seconds, not 30 s later.
            cleanup_interval=max(1, idle_timeout // 2),
        )
        # A host name with several addresses (localhost as 127.0.0.1 and ::1) gives one listener
        # each, all in our map and served by the one loop: the first one's port is the one shown.
        listeners = [d for d in self._map.values() if isinstance(d, BaseWSGIServer)]
        # waitress gives it as getnameinfo text; types-waitress leaves out BaseWSGIServer.effective_port
        # (set by BaseWSGIServer.__init__ from getsockname()).
        self.server_port = int(listeners[0].effective_port)  # type: ignore[attr-defined]
        self._wake = listeners[0].pull_trigger  # a trigger wakes the loop's poll, whichever listener's
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    def serve_forever(self) -> None:
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                # One poll at a time, so the loop sees shutdown(), whose trigger ends the poll at once.
                wasyncore.loop(timeout=self._server.adj.asyncore_loop_timeout, map=self._map, count=1)
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever() (called from another thread) and wait until it has returned."""
        self._stop.set()
        self._wake()
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection, and stop the worker threads."""
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._map)


def make_recommendations_server(store: RecommendationStore, host: str = "127.0.0.1", port: int = 8000,
                                quiet: bool = False, idle_timeout: int = IDLE_TIMEOUT_S,
                                threads: int = THREADS) -> RecommendationsServer:
    """A server bound to (host, port); port 0 picks a free one (see `server.server_port`)."""
    app = RecommendationsApp(store)
    return RecommendationsServer(app if quiet else _access_log(app), host, port, idle_timeout, threads)
