"""A local HTTP server for the tests of URL inputs: no test touches the network.

`serve({"/a.png": body, ...})` runs http.server on 127.0.0.1 in a thread; a route's value is the
body (bytes), or a (status, headers, body, delay seconds) tuple (a header set to None is left
out: without Content-Length the body runs to the end of the connection). `hits` counts requests
per path. A `Trickle` route sends its body a few bytes at a time with a pause between them (a
server slow enough to pass every socket timeout, never finishing).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Trickle:
    body: bytes
    pause: float
    piece: int = 16


@dataclass
class Served:
    base: str
    hits: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve(routes: Mapping[str, object]) -> Iterator[Served]:
    served = Served("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits[self.path] += 1
            route = routes.get(self.path)
            if route is None:
                status, headers, body, delay = 404, {}, b"not found", 0.0
            elif isinstance(route, bytes):
                status, headers, body, delay = 200, {}, route, 0.0
            elif isinstance(route, Trickle):
                self._trickle(route)
                return
            else:
                status, headers, body, delay = route  # type: ignore[misc]
            time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    if value is not None:  # None: the header is left out
                        self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _trickle(self, route: Trickle) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                for at in range(0, len(route.body), route.piece):
                    self.wfile.write(route.body[at : at + route.piece])
                    self.wfile.flush()
                    time.sleep(route.pause)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url(path: str = "/x.png") -> str:
    """An address on this machine where nothing listens: what offline looks like, at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
