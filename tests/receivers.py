"""Where the alerting tests' notifications land, on 127.0.0.1: a webhook receiver (a threaded
http.server, so that it answers while the test blocks on a subprocess) and an SMTP sink
(aiosmtpd, which runs its own thread). Both keep what they were sent."""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from deploy.embedded import free_port


class Mailbox:
    """aiosmtpd's handler: every message it was given, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        """Each message's envelope recipients, in the order of `messages`."""

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def subjects(self) -> list[str]:
        """Each message's subject, decoded (Alertmanager encodes the non-ASCII ones)."""
        return [str(make_header(decode_header(str(m["Subject"] or "")))) for m in self.messages]

    def texts(self) -> list[str]:
        """Each message's decoded text (Alertmanager sends HTML and plain parts, encoded)."""
        out = []
        for message in self.messages:
            parts = message.walk() if message.is_multipart() else [message]
            decoded = [p.get_payload(decode=True) for p in parts]
            out.append("\n".join(d.decode("utf-8", errors="replace") for d in decoded if isinstance(d, bytes)))
        return out


@dataclass
class Receivers:
    webhook_url: str
    smtp: str
    """host:port"""
    posted: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Each post's path, in the order of `posted`."""
    mailbox: Mailbox = field(default_factory=Mailbox)


@contextmanager
def receivers() -> Iterator[Receivers]:
    hook_port, smtp_port = free_port(), free_port()
    got = Receivers(f"http://127.0.0.1:{hook_port}/alerts", f"127.0.0.1:{smtp_port}")

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.posted.append(json.loads(body))
            got.paths.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    smtp = Controller(got.mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        yield got
    finally:
        smtp.stop()
        server.shutdown()
        server.server_close()
        thread.join(5)
