"""A scripted HTTP server on 127.0.0.1 for downloader tests.

Each path maps to a file body; a per-path queue of "faults" decides what the next requests get
(a 503 with Retry-After, a transfer cut after N bytes, ...).  Range requests and ``If-None-Match``
(304 for the route's ETag) are honoured like a storage server does; a route's body goes out with
a Content-Length, chunked, or delimited only by closing the connection (``framing``).  Every
request is recorded (path, query, headers) for assertions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """What one request gets instead of the normal reply.

    ``status``: reply with this status and ``headers``/``body``; ``cut_after``: send the normal
    reply's headers but close the connection after this many body bytes.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut_after: int | None = None


@dataclass
class Route:
    """A path's content and its pending faults."""

    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    ranges: bool = True
    #: How the body's end is marked: "length" (Content-Length), "chunked", or "close" (neither).
    framing: str = "length"
    #: Optional responder(query) -> (status, headers, body), overriding ``body``.
    responder: Callable[[dict[str, list[str]]], tuple[int, dict[str, str], bytes]] | None = None


@dataclass
class Loopback:
    """The running server: its base URL, routes and request log."""

    base: str
    routes: dict[str, Route]
    requests: list[dict] = field(default_factory=list)


def _handler(state: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            state.requests.append(
                {"path": parts.path, "query": query, "headers": dict(self.headers.items())}
            )
            route = state.routes.get(parts.path)
            if route is None:
                self._send(404, {}, b"not found")
                return
            fault = route.faults.pop(0) if route.faults else None
            if fault is not None and fault.status is not None:
                self._send(fault.status, fault.headers, fault.body)
                return
            etag = route.headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag and route.responder is None:
                self._send(304, {"ETag": etag}, b"")
                return
            if route.responder is not None:
                status, headers, body = route.responder(query)
                self._send(status, headers, body)
                return
            body, status = route.body, 200
            headers = {"Content-Type": route.content_type, **route.headers}
            if route.ranges:
                headers["Accept-Ranges"] = "bytes"
            wanted = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if wanted and route.ranges and (if_range is None or if_range == headers.get("ETag")):
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(route.body):
                    self._send(416, {"Content-Range": f"bytes */{len(route.body)}"}, b"")
                    return
                body, status = route.body[start:], 206
                headers["Content-Range"] = f"bytes {start}-{len(route.body) - 1}/{len(route.body)}"
            cut = fault.cut_after if fault is not None else None
            self._body(status, headers, body, route.framing, cut)

        def _body(
            self, status: int, headers: dict[str, str], body: bytes, framing: str, cut: int | None
        ) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if framing == "length":
                self.send_header("Content-Length", str(len(body)))
            elif framing == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            sent = body if cut is None else body[:cut]
            if framing == "chunked":
                for start in range(0, len(sent), 1 << 16):
                    piece = sent[start : start + (1 << 16)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                if cut is None:
                    self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(sent)
            self.wfile.flush()
            if cut is not None or framing == "close":
                self.close_connection = True

    return Handler


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[Loopback]:
    """Run a server on 127.0.0.1 (free port) in a thread; shut it down on exit."""
    state = Loopback(base="", routes=routes)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Sleeps(list):
    """A fake sleep that records the waits, and the clock it drives (time passes only in sleeps)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def clock(self) -> float:
        """Seconds slept so far."""
        return sum(self)
