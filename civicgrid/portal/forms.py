"""The portal's one report form, also used (mode="follow") to follow an open case instead."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.forms import MultiplePhotoField
from civicgrid.core.uploads import UploadRejected, validate_upload
from civicgrid.geo.lookup import OutsideManagedArea, locate
from civicgrid.portal.otp import OtpError, is_mobile, normalise_phone, otp_check
from civicgrid.portal.places import place_resolve
from civicgrid.portal.services import public_categories

MAX_PHOTOS = 6
MAX_DESCRIPTION = 4000
OUTSIDE = _("这个位置不在本县城市管理范围内，请重新选择位置。")
PHOTO_OUTSIDE = _("照片里记录的拍摄位置不在本县城市管理范围内，请选择问题位置。")


class ReportForm(forms.Form):
    # Location: a point (GPS or map tap, WGS84), else a gazetteer match, else a photo's GPS.
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    place_q = forms.CharField(label=_("地址或地标"), required=False, max_length=50)
    place = forms.CharField(required=False, max_length=40)
    category = forms.IntegerField(required=False)
    category_q = forms.CharField(label=_("搜索问题类型"), required=False, max_length=30)
    photos = MultiplePhotoField(label=_("照片"), required=False)
    description = forms.CharField(label=_("问题描述"), required=False, max_length=MAX_DESCRIPTION)
    name = forms.CharField(label=_("称呼"), required=False, max_length=50)
    phone = forms.CharField(label=_("手机号"), required=False, max_length=20)
    code = forms.CharField(label=_("短信验证码"), required=False, max_length=6)
    notify = forms.BooleanField(label=_("接收办理进度短信"), required=False)
    follow = forms.CharField(required=False, max_length=32)

    def __init__(self, *args, mode: str = "report", **kwargs):
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.photo_infos: list = []
        self.phone_code = None
        self.point: tuple[float, float] | None = None
        self.point_source = ""  # "point", "place", "photo"
        self.place_match = None
        self.category_obj = None

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if self.mode != "report":
            return []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传 %(n)d 张照片") % {"n": MAX_PHOTOS})
        # Checked by content here, before anything is written (the case stores them again).
        infos = []
        for photo in photos:
            try:
                infos.append(validate_upload(photo, kind="photo", field="photos"))
            except UploadRejected as rejected:
                raise forms.ValidationError(rejected.reason) from None
        self.photo_infos = infos
        return photos

    def clean_phone(self):
        phone = normalise_phone(self.cleaned_data.get("phone", ""))
        if phone and not is_mobile(phone):
            raise forms.ValidationError(_("请填写正确的 11 位手机号"))
        return phone

    def clean(self):
        data = super().clean()
        if self.mode == "report":
            self._clean_report(data)
        elif not (data.get("follow") or "").strip():
            self.add_error(None, _("请选择要关注的案件"))
        self._clean_contact(data)
        return data

    def _clean_report(self, data) -> None:
        if not (data.get("description") or "").strip() and "description" not in self.errors:
            self.add_error("description", _("请描述一下问题"))
        category_id = data.get("category")
        self.category_obj = public_categories().filter(pk=category_id).first() if category_id else None
        if self.category_obj is None and "category" not in self.errors:
            self.add_error("category", _("请选择问题类型"))
        lon, lat = data.get("lon"), data.get("lat")
        if lon is not None and lat is not None:
            self.point, self.point_source = (lon, lat), "point"
        elif data.get("place"):
            self.place_match = place_resolve(data["place"])
            if self.place_match is None:
                self.add_error("place", _("没有找到这个地点，请重新搜索"))
                return
            self.point, self.point_source = (self.place_match.lon, self.place_match.lat), "place"
        else:
            gps = next((info.gps for info in self.photo_infos if info.gps), None)
            if gps is not None:
                self.point, self.point_source = gps, "photo"
        if self.point is None:
            if "photos" not in self.errors:
                self.add_error("place", _("请选择问题位置：使用我的位置、在地图上点选，或搜索地名后选择"))
            return
        try:
            locate(*self.point)
        except OutsideManagedArea:
            self.add_error("place", PHOTO_OUTSIDE if self.point_source == "photo" else OUTSIDE)

    def _clean_contact(self, data) -> None:
        phone, code = data.get("phone"), (data.get("code") or "").strip()
        if data.get("notify") and not phone and "phone" not in self.errors:
            self.add_error("phone", _("接收办理进度短信需要填写并验证手机号"))
        if not phone or self.errors:
            # A code is checked only when everything else is right: a wrong try is counted,
            # and a form sent back for another reason should not use up the citizen's tries.
            return
        if not code:
            self.add_error("code", _("请填写短信验证码（点“获取验证码”），或清空手机号后提交"))
            return
        try:
            self.phone_code = otp_check(phone, code)
        except OtpError as error:
            self.add_error("code", error.reason)
