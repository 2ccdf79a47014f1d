"""The citizen portal (/p/): a citizen's private link to a case.

Nobody logs in on the portal. Whoever reports a case, or follows an open one instead of
reporting it again, gets a Tracker: a long random token behind a private link that shows the
public timeline and, to the reporter of a closed case, the rating form.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Tracker(models.Model):
    class Kind(models.TextChoices):
        REPORTER = "reporter", _("反映人")
        FOLLOWER = "follower", _("关注人")

    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="trackers")
    token = models.CharField(_("查询令牌"), max_length=43, unique=True, default=new_token, editable=False)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)
    # The citizen asked to be told of status changes (by SMS to the verified phone).
    notify = models.BooleanField(_("接收办理进度"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("查询链接")
        verbose_name_plural = _("查询链接")
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
