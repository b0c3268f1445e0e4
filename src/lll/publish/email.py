"""Email over SMTP: one message per recipient, each recorded in the ledger.

- multipart/alternative, text/plain first and text/html last (the preferred part), both
  carrying the same content and the recipient's own unsubscribe link;
- ``List-Unsubscribe`` (https one-click URL with a per-recipient token, optional mailto)
  and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), ``List-Id``;
- idempotent per recipient: the ledger row ``email:ADDRESS`` says ``sent`` (with the
  Message-ID), ``refused`` (a 5xx: permanent), ``failed`` (a 4xx or no connection
  before the message went out: retried on the next run) or ``unclear`` (the connection
  was lost after the message went out: never sent again by itself, so nobody gets two);
- an email cannot be recalled or updated: a recipient who got the issue is skipped even
  when the draft has changed since.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import html as htmllib
import ipaddress
import re
import secrets
import smtplib
import ssl
from base64 import b32encode
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from lll.clock import now
from lll.errors import PublishError, PublishSettingsError
from lll.publish.ledger import Slot
from lll.publish.model import PublishableIssue, Receipt
from lll.publish.registry import PublishContext
from lll.publish.render import slug
from lll.publish.settings import UNSUBSCRIBE_SECRET, SmtpSettings, env_value, smtp_settings

SKIP_STATES = frozenset({"sent", "refused", "unclear", "pending"})
# CRLF, and no folding below RFC 5322's 998: folded List-Unsubscribe headers have broken DKIM.
POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Outcome:
    recipient: str
    state: str  # sent | refused | failed | unclear | skipped
    reply: str = ""
    message_id: str = ""


class _Lost(Exception):
    """The connection broke; ``after_data`` says whether the message had gone out."""

    def __init__(self, reply: str, after_data: bool) -> None:
        super().__init__(reply)
        self.after_data = after_data


def unsubscribe_token(secret: str, recipient: str) -> str:
    digest = hmac.new(secret.encode(), recipient.strip().lower().encode(), hashlib.sha256).digest()
    return b32encode(digest[:15]).decode().lower()


class EmailPublisher:
    name = "email"
    supports_public = False

    def __init__(self, ctx: PublishContext) -> None:
        self.ctx = ctx
        self.settings = ctx.config.email
        self.smtp: SmtpSettings = smtp_settings(ctx.env, ctx.secrets)
        self.sender = self.settings.sender.strip()
        self.envelope_from = parseaddr(self.sender)[1]
        if "@" not in self.envelope_from:
            raise PublishSettingsError('email: set [email] sender in lll.toml, e.g. '
                                       '"Large Language Letters <letters@example.com>"', target="email")
        self.recipients = list(dict.fromkeys(r.strip() for r in self.settings.recipients if r.strip()))
        if not self.recipients:
            raise PublishSettingsError('email: add [email] recipients = ["reader@example.com"] to lll.toml',
                                       target="email")
        url = self.settings.unsubscribe_url.strip()
        if not url.startswith("https://") or "{token}" not in url:
            raise PublishSettingsError("email: set [email] unsubscribe_url in lll.toml to an https URL with "
                                       "{token}, e.g. https://example.com/unsubscribe/{token} (one-click "
                                       "unsubscribe, RFC 8058)", target="email")
        self.secret = ctx.secrets.add(env_value(ctx.env, UNSUBSCRIBE_SECRET))
        if not self.secret:
            raise PublishSettingsError(f"email: set {UNSUBSCRIBE_SECRET} (a long random string) so that "
                                       "unsubscribe links cannot be forged", target="email")
        self.domain = self.envelope_from.rsplit("@", 1)[1]

    # -- publish ---------------------------------------------------------------------------

    def slot(self, recipient: str) -> Slot:
        return self.ctx.slot.ledger.slot(f"email:{recipient.lower()}", self.ctx.slot.date, self.ctx.secrets.redact)

    def publish(self, issue: PublishableIssue, *, dry_run: bool) -> Receipt:
        earlier = {r: self.slot(r).entry() for r in self.recipients}
        todo = [r for r, e in earlier.items() if e is None or e.state not in SKIP_STATES]
        skipped = [Outcome(r, "skipped", e.state) for r, e in earlier.items() if e is not None and r not in todo]
        if dry_run:
            return Receipt(self.name, issue.date, "would send", "new" if todo else self._state(skipped),
                           content_hash=issue.content_hash, dry_run=True,
                           message=f"would send to {len(todo)} recipient(s); {len(skipped)} already handled",
                           details=tuple(f"would send: {r}" for r in todo) + _lines(skipped))
        if not todo:
            return self._receipt(issue, skipped, "unchanged")
        outcomes = self._send_all(issue, todo)
        return self._receipt(issue, skipped + outcomes, "sent")

    def _send_all(self, issue: PublishableIssue, todo: list[str]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise PublishError(self.ctx.secrets.redact(
                f"email: cannot send through {self.smtp.where} ({_reason(exc)}); nothing was sent: check "
                "LLL_SMTP_URL and try again"), target=self.name) from exc
        try:
            for i, recipient in enumerate(todo):
                slot = self.slot(recipient)
                slot.pending()
                try:
                    outcome = self._send_one(client, issue, recipient)
                except _Lost as lost:
                    state = "unclear" if lost.after_data else "failed"
                    note = ("the connection was lost after the message went out: check the mailbox; LLL will "
                            "not send it again by itself" if lost.after_data else
                            "the connection was lost before the message went out: the next run retries")
                    slot.fail(f"{lost}: {note}", state)
                    outcomes.append(Outcome(recipient, state, f"{lost}; {note}"))
                    for later in todo[i + 1:]:
                        self.slot(later).fail("not attempted: the connection was lost; the next run sends it")
                        outcomes.append(Outcome(later, "failed", "not attempted: the connection was lost"))
                    break
                self._record(slot, issue, outcome)
                outcomes.append(outcome)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes

    def _record(self, slot: Slot, issue: PublishableIssue, outcome: Outcome) -> None:
        if outcome.state == "sent":
            slot.confirm(Receipt(slot.target, slot.date, "sent", "sent", outcome.message_id,
                                 content_hash=issue.content_hash, detail={"reply": outcome.reply}))
        else:
            slot.fail(f"{outcome.state}: {outcome.reply}", outcome.state)

    # -- SMTP ------------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        timeout = self.ctx.config.publish.timeout
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.smtp.tls:
            client = smtplib.SMTP_SSL(self.smtp.host, self.smtp.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=timeout)
        client.ehlo()
        secure = self.smtp.tls
        if not secure and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
            secure = True
        if self.smtp.username:
            if not secure and not _loopback(self.smtp.host):
                client.close()
                raise PublishSettingsError(f"email: {self.smtp.where} offers no STARTTLS; LLL will not send the "
                                           "password in clear: use smtps://", target=self.name)
            client.login(self.smtp.username, self.smtp.password)
        return client

    def _send_one(self, client: smtplib.SMTP, issue: PublishableIssue, recipient: str) -> Outcome:
        message = self.message(issue, recipient)
        message_id = str(message["Message-ID"])
        data = message.as_bytes(policy=POLICY)
        try:
            code, reply = client.mail(self.envelope_from)
            if code != 250:
                client.rset()
                return Outcome(recipient, _refusal(code), f"sender refused: {code} {_text(reply)}")
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                client.rset()
                return Outcome(recipient, _refusal(code), f"{code} {_text(reply)}")
            code, reply = client.docmd("DATA")
            if code != 354:
                client.rset()
                return Outcome(recipient, _refusal(code), f"{code} {_text(reply)}")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Lost(_reason(exc), after_data=False) from exc
        try:
            client.send(_dot_stuffed(data))
            code, reply = client.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Lost(_reason(exc), after_data=True) from exc
        if code != 250:
            return Outcome(recipient, _refusal(code), f"{code} {_text(reply)}")
        return Outcome(recipient, "sent", f"{code} {_text(reply)}", message_id)

    # -- the message -----------------------------------------------------------------------

    def message(self, issue: PublishableIssue, recipient: str) -> EmailMessage:
        token = unsubscribe_token(self.secret, recipient)
        unsubscribe = self.settings.unsubscribe_url.strip().replace("{token}", token)
        targets = [f"<{unsubscribe}>"]
        if self.settings.unsubscribe_mailto.strip():
            targets.append(f"<mailto:{self.settings.unsubscribe_mailto.strip()}?subject=unsubscribe-{token}>")
        msg = EmailMessage(policy=POLICY)
        msg["From"] = self.sender
        msg["To"] = recipient
        msg["Subject"] = issue.title
        msg["Date"] = formatdate(now().timestamp(), usegmt=True)
        msg["Message-ID"] = f"<lll.{issue.date}.{secrets.token_hex(8)}@{self.domain}>"  # short: never folded
        name = issue.newsletter or self.sender
        msg["List-Id"] = self.settings.list_id.strip() or f"{name} <{slug(name)}.{self.domain}>"
        msg["List-Unsubscribe"] = ", ".join(targets)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(self.text(issue, unsubscribe), subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(self.html(issue, unsubscribe), subtype="html", charset="utf-8", cte="quoted-printable")
        return msg

    def text(self, issue: PublishableIssue, unsubscribe: str) -> str:
        web = f"Read it on the web: {issue.url}\n" if issue.url else ""
        return (f"{issue.title}\n{'=' * len(issue.title)}\n\n{issue.text}\n--\n{web}"
                f"Unsubscribe: {unsubscribe}\n")

    def html(self, issue: PublishableIssue, unsubscribe: str) -> str:
        e = htmllib.escape
        web = f'<a href="{e(issue.url)}">Read it on the web</a> · ' if issue.url else ""
        return (f'<!doctype html><html><head><meta charset="utf-8"><title>{e(issue.title)}</title></head>'
                f'<body style="font-family:sans-serif;max-width:40em;margin:auto;line-height:1.5">'
                f"<h1>{e(issue.title)}</h1>\n{issue.html}\n<hr><p>{web}"
                f'<a href="{e(unsubscribe)}">Unsubscribe</a></p></body></html>\n')

    # -- receipts --------------------------------------------------------------------------

    def _state(self, outcomes: list[Outcome]) -> str:
        states = {o.reply if o.state == "skipped" else o.state for o in outcomes}
        if states <= {"sent"}:
            return "sent"
        if "sent" not in states and states <= {"failed", "refused"}:
            return "failed"
        return "partial"

    def _receipt(self, issue: PublishableIssue, outcomes: list[Outcome], action: str) -> Receipt:
        state = self._state(outcomes)
        sent = sum(1 for o in outcomes if o.state == "sent" or o.reply == "sent")
        problems = [o for o in outcomes if o.state in ("refused", "failed", "unclear")
                    or (o.state == "skipped" and o.reply != "sent")]
        message = f"{sent} of {len(outcomes)} recipient(s) have the issue"
        if problems:
            message += "; " + "; ".join(f"{o.recipient}: {o.state if o.state != 'skipped' else o.reply} "
                                        f"{'' if o.state == 'skipped' else o.reply}".strip() for o in problems[:5])
        if action == "unchanged":
            message += "; nothing sent (an email cannot be updated once sent)"
        return Receipt(self.name, issue.date, action, state, content_hash=issue.content_hash,
                       message=self.ctx.secrets.redact(message), details=_lines(outcomes),
                       detail={"recipients": len(outcomes), "sent": sent})


def _lines(outcomes: list[Outcome]) -> tuple[str, ...]:
    return tuple(f"{o.state if o.state != 'skipped' else 'already ' + o.reply}: {o.recipient}"
                 + (f" ({o.reply})" if o.reply and o.state != "skipped" else "") for o in outcomes)


def _refusal(code: int) -> str:
    return "refused" if 500 <= code < 600 else "failed"


def _text(reply: Any) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reason(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


def _dot_stuffed(data: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def register_publishers(register: Any) -> None:
    register("email", EmailPublisher)
