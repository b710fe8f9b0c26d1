"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port, in a thread.

The ``smtp`` fixture (tests/conftest.py) starts one, points Django's SMTP backend at it and
gives what arrived, each message parsed as a mail program would (``email`` package):

    def test_x(smtp):
        ...
        [message] = smtp.messages
        smtp.part(message, "text/plain")
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """What the server took: the envelope's addresses and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address.lower() in map(str.lower, r.rcpt_tos)]

    @staticmethod
    def part(message: EmailMessage, content_type: str) -> str:
        """The text of the message's part of this type (exactly one)."""
        parts = [p for p in message.walk() if p.get_content_type() == content_type]
        assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
        return str(parts[0].get_content())

    def links(self, message: EmailMessage, path_part: str) -> set[str]:
        """The links containing ``path_part`` in the plain-text part (the HTML part must
        carry the same ones)."""
        text = self.part(message, "text/plain")
        html = self.part(message, "text/html")
        found = {u for u in re.findall(r"https?://\S+", text) if path_part in u}
        in_html = {u for u in re.findall(r'href="([^"]+)"', html) if path_part in u}
        assert found == in_html, (found, in_html)
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving() -> Iterator[Inbox]:
    inbox = Inbox()
    for _attempt in range(5):
        inbox.port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
        try:
            controller.start()
        except OSError:  # the port was taken between the probe and the start
            continue
        break
    else:
        raise RuntimeError("no free port for the test SMTP server")
    try:
        yield inbox
    finally:
        controller.stop()
