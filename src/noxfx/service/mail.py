"""Outgoing e-mail: SMTP in server mode, an outbox folder in embedded mode.

Without ``NOX_SMTP_HOST`` every message is written as an RFC 5322 ``.eml`` file to
``NOX_HOME/outbox`` (atomically: temp file + rename), where the tests and the CLI read it with
:func:`read_outbox`. Nothing is sent anywhere in that mode.
"""

from __future__ import annotations

import os
import smtplib
import tempfile
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from noxfx.service.settings import ServiceSettings


class Mailer:
    """Sends plain-text mail (see the module docstring)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{uuid.uuid4().hex}@noxfx>"
        msg.set_content(body)
        if self.settings.smtp_host:
            self._smtp(msg)
        else:
            self._outbox(msg)

    def _smtp(self, msg: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user and s.smtp_password:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(msg)

    def _outbox(self, msg: EmailMessage) -> None:
        folder = self.settings.outbox_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{_now_stamp()}-{uuid.uuid4().hex[:8]}.eml"
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(msg.as_bytes(policy=policy.SMTP))
        os.replace(tmp, folder / name)


def _now_stamp() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def read_outbox(folder: Path, to: str | None = None) -> list[EmailMessage]:
    """Messages in an outbox folder, oldest first (only those to ``to`` when given)."""
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml")):
        with open(path, "rb") as fh:
            msg = BytesParser(policy=policy.default).parse(fh)
        if to is None or str(msg["To"]).lower() == to.lower():
            messages.append(msg)
    return messages


__all__ = ["Mailer", "read_outbox"]
