"""Serve the WSGI app with the standard library: one thread per request, no framework."""

from __future__ import annotations

import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from recmart.realtime.store import RecommendationStore
from recmart.web.app import RecommendationsApp


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client never keeps the process alive


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # one short line per request, on stderr
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


class _SilentHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


def make_recommendations_server(store: RecommendationStore, host: str = "127.0.0.1", port: int = 8000,
                                quiet: bool = False) -> WSGIServer:
    """A server bound to (host, port); port 0 picks a free one (see `server.server_port`)."""
    return make_server(host, port, RecommendationsApp(store), server_class=_ThreadingServer,
                       handler_class=_SilentHandler if quiet else _QuietHandler)
