"""Mailers: SMTP for production, an outbox directory of .eml files for the embedded default."""

from __future__ import annotations

import os
import re
import smtplib
import tempfile
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from portal.domain.errors import TransientError
from portal.domain.ports import OutgoingMail


class MailUnavailable(TransientError):
    """The mail server could not take the message now; it is retried later."""


def to_email(mail: OutgoingMail) -> EmailMessage:
    """The RFC 5322 message for `mail`; its idempotency key travels as X-JTAI-Message-Key."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="jtai-portal.invalid")
    message["X-JTAI-Message-Key"] = mail.key
    message.set_content(mail.body)
    return message


class SmtpMailer:
    """Sends through an SMTP relay, with STARTTLS and login when configured."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, mail: OutgoingMail) -> None:
        """Hand the message to the relay; MailUnavailable if it cannot be handed over now."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(to_email(mail))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP {self.host}:{self.port}: {exc}") from exc


class OutboxDirectoryMailer:
    """Writes each message as an .eml file (atomically) for someone to read or forward."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, mail: OutgoingMail) -> None:
        """Write the message to <directory>/<key>.eml, replacing an earlier copy."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", mail.key)[:200] + ".eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".partial-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(to_email(mail)))
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            raise MailUnavailable(f"cannot write to {self.directory}: {exc}") from exc
