"""Open311 GeoReport v2: the applications allowed to post, the extra questions of a service, and
the Open311 record of each case that entered through the interface.

A service is a public catalogue category (catalog.Category); its extra questions live here,
beside the interface that asks them, so that the catalogue and its reference loaders stay as
they are.
"""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "cg311_"


def hash_key(key: str) -> str:
    # Keys are 32 random bytes, so a plain SHA-256 is enough (no stretching needed: nothing
    # to brute-force), and it lets a request find its app with one indexed lookup.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class App(models.Model):
    """An application (a city app, a mini-program, a partner's CRM) allowed to POST requests.

    Only the SHA-256 of its API key is stored; the admin shows the key once, when it is issued.
    """

    name = models.CharField(_("应用名称"), max_length=100)
    contact = models.CharField(_("联系人"), max_length=200, blank=True)
    # The key's first characters, so that an admin can tell keys apart without the key.
    key_hint = models.CharField(_("密钥前缀"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    key_issued_at = models.DateTimeField(_("密钥签发时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("Open311 应用")
        verbose_name_plural = _("Open311 应用")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def issue_key(self) -> str:
        """Give the app a new key (replacing any old one) and return it; the caller saves."""
        key = new_key()
        self.key_hash = hash_key(key)
        self.key_hint = key[: len(KEY_PREFIX) + 4]
        self.key_issued_at = timezone.now()
        return key


class Datatype(models.TextChoices):
    # Exactly the six datatypes of GeoReport v2.
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


LIST_DATATYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})


class ServiceAttribute(models.Model):
    """An extra question asked when the public reports in a category (an Open311 service attribute).

    ``variable=False`` makes it an informational text shown in the form, with nothing submitted.
    ``values`` is a list of {"key": ..., "name": ...} for the two list datatypes.
    """

    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("分类"), on_delete=models.CASCADE, related_name="service_attributes"
    )
    code = models.SlugField(_("代码"), max_length=50, help_text=_("提交时的字段名：attribute[代码]。"))
    variable = models.BooleanField(_("需要填写"), default=True, help_text=_("不勾选则只是一段说明文字。"))
    datatype = models.CharField(_("数据类型"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("必填"), default=False)
    datatype_description = models.CharField(_("填写提示"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=1)
    description = models.CharField(_("问题"), max_length=500)
    values = models.JSONField(_("选项"), default=list, blank=True, help_text=_('[{"key": "1", "name": "选项一"}, …]'))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分类附加问题")
        verbose_name_plural = _("分类附加问题")
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code_unique"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attribute_order_unique"),
            models.CheckConstraint(condition=models.Q(order__gte=1), name="open311_attribute_order_positive"),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.datatype in LIST_DATATYPES:
            values = self.values if isinstance(self.values, list) else None
            ok = bool(values) and all(
                isinstance(v, dict) and str(v.get("key", "")).strip() and str(v.get("name", "")).strip() for v in values
            )
            if not ok:
                raise ValidationError({"values": _('单选、多选题需要选项：[{"key": …, "name": …}]。')})
            keys = [str(v["key"]) for v in values]
            if len(set(keys)) != len(keys):
                raise ValidationError({"values": _("选项的 key 不能重复。")})
        elif self.values:
            raise ValidationError({"values": _("只有单选、多选题有选项。")})

    def keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values or []]


class Submission(models.Model):
    """The Open311 side of a case that entered through POST requests: which app sent it, from
    which address, and what the case itself has no field for (attribute answers, media_url, the
    contact fields the spec defines)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311_submission")
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="submissions")
    token = models.CharField(max_length=32, unique=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    address_string = models.CharField(max_length=256, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 上报记录")
        verbose_name_plural = _("Open311 上报记录")
        ordering = ["-created_at"]
        indexes = [
            # The per-IP rate limit counts an address's recent submissions.
            models.Index(fields=["client_ip", "created_at"], name="open311_sub_ip_created"),
        ]

    def __str__(self) -> str:
        return self.token
