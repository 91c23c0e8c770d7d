"""A tiny local HTTP server that serves one file well or badly, for the download tests.

Real sockets, real HTTP (``http.server``), no mocks: seglab's downloader (pooch + requests) talks
to it exactly as it talks to Meta's server. It listens on 127.0.0.1 on a free port, counts the
requests for the file, and misbehaves on demand (``server.mode = ...``):

- ``"ok"``           the file, with the right Content-Length;
- ``"drop"``         announces the full Content-Length, sends half, closes the connection;
- ``"drop_once"``    like ``"drop"`` for the first request, then ``"ok"``;
- ``"404"``/``"500"`` that HTTP status, no file;
- ``"wrong_bytes"``  the right length but different bytes (a hash mismatch);
- ``"wrong_size"``   the file plus extra bytes, honestly announced (a size mismatch).

It stops when the ``with`` block ends, and by itself after ``max_lifetime_s`` in any case.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "drop", "drop_once", "404", "500", "wrong_bytes", "wrong_size")


class FileServer:
    """Serve ``payload`` at ``/<filename>`` on 127.0.0.1; see the module docstring for modes."""

    def __init__(self, payload: bytes, filename: str = "fake_sam.pth", max_lifetime_s: float = 120):
        self.payload = payload
        self.filename = filename
        self.max_lifetime_s = max_lifetime_s
        self.mode = "ok"
        self.requests = 0  # GET requests for the file, whatever the answer
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        """The file's URL, e.g. ``http://127.0.0.1:50123/fake_sam.pth``."""
        return f"{self.base_url}{self.filename}"

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running; use it in a `with` block")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def _next_mode(self) -> str:
        with self._lock:
            self.requests += 1
            mode = self.mode
            if mode == "drop_once":
                self.mode = "ok"
                mode = "drop"
            return mode

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a stuck client cannot hold a thread forever

            def do_GET(self) -> None:
                if self.path.lstrip("/") != server.filename:
                    self.send_error(404)
                    return
                mode = server._next_mode()
                if mode in ("404", "500"):
                    self.send_error(int(mode))
                    return
                body = server.payload
                if mode == "wrong_bytes":
                    body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
                elif mode == "wrong_size":
                    body = body + b"\0" * 1000
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return  # HTTP/1.0: returning closes the socket, half the body unsent
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

        return Handler

    def __enter__(self) -> FileServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._timer = threading.Timer(self.max_lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._timer is not None:
            self._timer.cancel()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port_url(filename: str = "fake_sam.pth") -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused): a stand-in for offline."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{filename}"
