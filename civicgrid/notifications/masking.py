"""Masks for addresses and free text: logs and error columns never hold a full phone or e-mail."""

import re

_PHONE = re.compile(r"(?<!\d)(\+?\d{3})\d{4,}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_phone(phone: str) -> str:
    """138****5678, as Case.masked_phone shows it."""
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "****" if phone else ""


def mask_email(email: str) -> str:
    """z***@example.com"""
    local, at, domain = email.partition("@")
    if not at:
        return mask_phone(email)
    return f"{local[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Every phone number and e-mail address inside a text, masked (error messages, logs)."""
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
