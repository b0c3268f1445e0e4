"""A real SMTP server on 127.0.0.1 (aiosmtpd's ``Controller``) that keeps what it receives.

Recipients in ``refuse`` are refused at ``RCPT`` with a 550; ``busy`` get a 450 (try
later). With ``login`` set, ``AUTH`` (PLAIN/LOGIN) is offered without TLS, as on a
loopback test server, and only that user and password are accepted (``logins`` records
each success)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.busy:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSmtp:
    def __init__(self, *, refuse: set[str] | None = None, busy: set[str] | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.handler = Handler(refuse={r.lower() for r in refuse or set()}, busy={b.lower() for b in busy or set()})
        self.login = login
        kwargs: dict[str, Any] = {}
        if login:
            kwargs.update(auth_require_tls=False, authenticator=self._authenticate)
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and self.login is not None:
            user, password = data.login.decode(), data.password.decode()
            if (user, password) == self.login:
                self.handler.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    @property
    def url(self) -> str:
        if self.login:
            return f"smtp://{self.login[0]}:{self.login[1]}@127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class DroppingSmtp:
    """A bare SMTP server that takes the whole message after ``DATA`` and then closes the
    connection without answering: the client cannot know whether it was delivered."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = int(self.sock.getsockname()[1])
        self.messages: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._session(conn.makefile("rb"), conn)

    def _session(self, reader: Any, conn: socket.socket) -> None:
        conn.sendall(b"220 dropping.test ESMTP\r\n")
        while True:
            line = reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250-dropping.test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                body = b""
                while not body.endswith(b"\r\n.\r\n"):
                    chunk = reader.readline()
                    if not chunk:
                        return
                    body += chunk
                self.messages.append(body)
                return  # close without the final reply
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 OK\r\n")

    def __enter__(self) -> DroppingSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self.sock.close()
