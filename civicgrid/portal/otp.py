"""One-time SMS codes that prove a citizen's phone number (no account on the portal).

    otp_send(phone)                    # a new 6-digit code by SMS; raises OtpError
    code = otp_check(phone, "123456")  # the matching PhoneCode; raises OtpError (counts a wrong try)
    otp_consume(code)                  # inside the write transaction: True once, then False

A code lives `CODE_TTL` (5 minutes), allows `MAX_ATTEMPTS` wrong tries and is used once. Only
an HMAC of phone and code (keyed with SECRET_KEY) is stored, so the table does not give the
codes away. The SMS goes through the notifications' provider (CIVICGRID_SMS_PROVIDER; the
default only writes a masked line to the log).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from civicgrid.notifications import conf as notify_conf
from civicgrid.notifications.masking import mask_phone
from civicgrid.portal.models import PhoneCode

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# Mainland mobile numbers: 11 digits starting 13–19.
MOBILE = re.compile(r"^1[3-9]\d{9}$")


class OtpError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise_phone(value: str) -> str:
    """Digits only, without a +86/0086 prefix; '' for nothing."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def is_mobile(phone: str) -> bool:
    return bool(MOBILE.match(phone))


def _hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_send(phone: str) -> PhoneCode:
    """Store a new code for the phone and send it by SMS. Earlier unused codes stop working."""
    if not is_mobile(phone):
        raise OtpError(_("请填写正确的 11 位手机号"))
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    PhoneCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
    phone_code = PhoneCode.objects.create(
        phone=phone, code_hash=_hash(phone, code), created_at=now, expires_at=now + CODE_TTL
    )
    text = _("【城市管理】您的验证码是 %(code)s，%(minutes)d 分钟内有效。如非本人操作，请忽略。") % {
        "code": code,
        "minutes": int(CODE_TTL.total_seconds() // 60),
    }
    # No transaction is open here (the view holds none), so the provider's network call
    # holds no lock; a failed send leaves no usable code behind.
    try:
        import_string(notify_conf.get("CIVICGRID_SMS_PROVIDER"))().send_sms(phone, text)
    except Exception as exc:
        log.warning("verification sms to %s failed: %s", mask_phone(phone), type(exc).__name__)
        phone_code.delete()
        raise OtpError(_("验证码短信发送失败，请稍后再试")) from None
    return phone_code


def otp_check(phone: str, code: str) -> PhoneCode:
    """The phone's current code if `code` matches it; a wrong code counts against MAX_ATTEMPTS."""
    code = (code or "").strip()
    if not code:
        raise OtpError(_("请填写短信验证码"))
    current = PhoneCode.objects.filter(phone=phone, used_at__isnull=True).order_by("-created_at", "-id").first()
    if current is None or current.expires_at <= timezone.now():
        raise OtpError(_("验证码已过期或未获取，请重新获取"))
    if current.attempts >= MAX_ATTEMPTS:
        raise OtpError(_("验证码错误次数过多，请重新获取"))
    if not hmac.compare_digest(current.code_hash, _hash(phone, code)):
        # Counted in the database at once (no transaction is open), so a refused form that is
        # sent again cannot try more codes.
        current.attempts += 1
        PhoneCode.objects.filter(pk=current.pk).update(attempts=current.attempts)
        left = MAX_ATTEMPTS - current.attempts
        if left <= 0:
            raise OtpError(_("验证码错误次数过多，请重新获取"))
        raise OtpError(_("验证码不正确，还可以再试 %(left)d 次") % {"left": left})
    return current


def otp_consume(phone_code: PhoneCode) -> bool:
    """Mark the code used; False when another request used it first."""
    return bool(PhoneCode.objects.filter(pk=phone_code.pk, used_at__isnull=True).update(used_at=timezone.now()))
