"""A real HTTP receiver on loopback for webhook tests: records every request and answers with
the status codes it is told to (or hangs, or redirects)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    # What to answer, in order; the last one repeats. An int is a status code, "hang" sleeps past
    # any timeout, "redirect:<url>" answers 302 to that URL.
    answers: list[int | str] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answer = receiver.answers[min(len(receiver.requests), len(receiver.answers)) - 1]
                if answer == "hang":
                    time.sleep(6)
                    answer = 200
                if isinstance(answer, str) and answer.startswith("redirect:"):
                    self.send_response(302)
                    self.send_header("Location", answer.removeprefix("redirect:"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true}'
                self.send_response(int(answer))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def verify(secret: str, received: Received, at: float) -> dict:
    """Verify a request with the standardwebhooks library, its clock set to `at` (the tests run
    on a fake clock, and the verifier refuses timestamps more than 5 minutes from its now)."""
    from datetime import datetime

    import standardwebhooks.webhooks as library
    from standardwebhooks import Webhook

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.fromtimestamp(at, tz=tz)

    real = library.datetime
    library.datetime = Frozen  # type: ignore[misc]
    try:
        return Webhook(secret).verify(received.body, received.headers)
    finally:
        library.datetime = real  # type: ignore[misc]
