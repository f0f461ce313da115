"""Sending e-mail: SMTP (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS,
MAIL_USE_SSL, MAIL_SENDER), or without MAIL_SERVER an .eml file per message in MAIL_FOLDER.

Alerts never carry complainants' details: callers give references, businesses and dates only.
"""
import os
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app


def build_message(to: str, subject: str, body: str, attachments=(), reply_to: str | None = None) -> EmailMessage:
    """`attachments`: (file name, MIME type such as "application/pdf", bytes) for each file."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="investigations.local")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(body)
    for name, media_type, data in attachments:
        maintype, subtype = media_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def send_mail(to: str, subject: str, body: str, attachments=(), reply_to: str | None = None) -> None:
    """Send one message to one recipient (recipients never see each other's addresses)."""
    message = build_message(to, subject, body, attachments, reply_to)
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        _write_eml(message)
        return
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=30, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _write_eml(message: EmailMessage) -> Path:
    """Development without SMTP: instance/mail/<time>-<random>.eml, written whole or not at all."""
    folder = Path(current_app.config["MAIL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    from ..models import utcnow

    name = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
    temp = folder / f".{name}.partial"
    with open(temp, "wb") as handle:
        handle.write(message.as_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, folder / name)
    current_app.logger.info("No MAIL_SERVER: wrote %s to %s", message["Subject"], folder / name)
    return folder / name
