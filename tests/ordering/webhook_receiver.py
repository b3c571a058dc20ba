"""A real HTTP receiver for webhook tests: `http.server` in a thread on 127.0.0.1, random port.

It records every request and answers with the statuses it is told (200 by default); it can hold
the first request until released (a receiver that is slow while a worker dies) or answer late (a
timeout)."""

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: Message
    body: bytes


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.delay = 0.0
        self.hold_first = False
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, self.headers, body))
                    number = len(receiver.requests)
                    status = (receiver.statuses.pop(0) if receiver.statuses
                              else receiver.default_status)
                if number == 1 and receiver.hold_first:
                    receiver.first_arrived.set()
                    receiver.release.wait(60)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, format, *args):
                pass

        return Handler

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.05)
        return len(self.requests) >= count


@contextlib.contextmanager
def running_receiver():
    receiver = Receiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def closed_port_url() -> str:
    """An address on this machine where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"
