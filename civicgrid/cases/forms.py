"""HTML forms of the workbenches: list filters, one form per case action, the report form.

Forms only collect and check the shape of the input (required fields, numbers); the rules
live in civicgrid.cases.services, whose errors the views put back onto these forms.
"""

from __future__ import annotations

from django import forms
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Value, When
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import reference
from civicgrid.cases.models import Channel, ResolutionMode
from civicgrid.cases.services import serves, serving
from civicgrid.cases.workflow import TRANSITIONS, Action, Requirement, Status
from civicgrid.catalog.models import Category
from civicgrid.core.models import OrgUnit, Role
from civicgrid.core.widgets import FastHiddenInput, FastSelect, FastTextarea
from civicgrid.geo.models import Region


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one <input type=file multiple>; the service validates each by content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


#
# Workbench filters
#

OVERDUE_CHOICES = [("", _("全部")), ("1", _("已超期")), ("0", _("未超期"))]


def _category_choices() -> list[tuple[str, str]]:
    return [("", _("全部")), *reference.filter_categories.get().choices]


def _category_options() -> str:
    """The filter bar's category options, none selected, drawn once per snapshot and language."""
    snapshot = reference.filter_categories.get()
    language = get_language()
    html = snapshot.html.get(language)
    if html is None:
        html = snapshot.html[language] = FastSelect()._options([("", _("全部")), *snapshot.choices], set())
    return html


class FilterForm(forms.Form):
    """The filter bar. Rendering only: the values are applied by selectors.case_filter."""

    queue = forms.CharField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(label=_("编号/地址"), required=False)
    category = forms.ChoiceField(label=_("分类"), required=False, widget=FastSelect)
    street = forms.ChoiceField(label=_("街道"), required=False, widget=FastSelect)
    grid = forms.CharField(label=_("网格编码"), required=False)
    channel = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部")), *Channel.choices], widget=FastSelect
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *Status.choices], widget=FastSelect
    )
    overdue = forms.ChoiceField(label=_("超期"), required=False, choices=OVERDUE_CHOICES, widget=FastSelect)
    date_from = forms.DateField(label=_("上报日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The 258 categories and their drawn options come from a per-process snapshot (its query
        # and drawing were ~10 ms of every queue page); a rename shows on the next request here.
        # A callable: the form is never validated, and a list of 258 was normalised on every request.
        self.fields["category"].choices = _category_choices
        self.fields["category"].widget.options_html = _category_options
        streets = Region.objects.visible_to(user).filter(level=Region.Level.STREET).order_by("code")
        self.fields["street"].choices = [("", _("全部")), *streets.values_list("code", "name")]


#
# Actions
#

FIELD_OF = {  # service error field → form field
    "note": "note",
    "unit": "unit",
    "amount": "amount",
    "duplicate_of": "duplicate_of",
    "photos": "photos",
    "resolution_mode": "resolution_mode",
}

# Actions whose reason may be left out but can still be written down.
OPTIONAL_NOTE = {Action.VERIFY_CONFIRM, Action.HANDLED, Action.CHECK_PASS, Action.CLOSE, Action.REMIND}
# Photos a field user may add though the table does not require them.
OPTIONAL_PHOTO = {Action.VERIFY_CONFIRM, Action.VERIFY_DENY, Action.CHECK_PASS, Action.CHECK_FAIL}
# Marks on an open case, not steps of the loop.
MARKS = {Action.SUPERVISE, Action.REMIND, Action.MARK_URGENT}
# Requests to someone else (回退, 延期, 缓办): after the step that moves the case on.
REQUESTS = {Action.REQUEST_RETURN, Action.REQUEST_EXTENSION, Action.REQUEST_DEFERRAL, Action.REQUEST_VOID}
# Drawn in red: they refuse, reject or send work back.
NEGATIVE = {
    Action.VERIFY_DENY,
    Action.REJECT,
    Action.REQUEST_VOID,
    Action.REFUSE_VOID,
    Action.REFUSE_RETURN,
    Action.REFUSE_EXTENSION,
    Action.REFUSE_DEFERRAL,
    Action.CHECK_FAIL,
    Action.REFUSE_SELF_HANDLED,
}


class ActionForm(forms.Form):
    """One action on one case, asking exactly what the transition table requires."""

    # The action itself travels unprefixed beside the form (name="action"): the view needs it
    # to build the right form. Fields are prefixed with the action so that several forms can
    # sit on one page.
    version = forms.IntegerField(widget=FastHiddenInput)

    def __init__(self, *args, action: Action, case, **kwargs):
        kwargs.setdefault("prefix", action.value)
        kwargs.setdefault("initial", {"version": case.version})
        super().__init__(*args, **kwargs)
        self.action, self.case = action, case
        requires = TRANSITIONS[action].requires
        if Requirement.UNIT in requires:
            self.fields["unit"] = forms.ModelChoiceField(
                label=_("处置单位"),
                queryset=units_for_dispatch(case),
                empty_label=_("请选择处置单位"),
                widget=FastSelect,
            )
            self.fields["unit"].error_messages["required"] = _("请选择处置单位")
            if action == Action.REOPEN and case.handling_unit_id:
                # Reopened after a 不满意: back to the unit that handled it, unless changed.
                self.fields["unit"].initial = case.handling_unit_id
            if not self.is_bound:
                # Drawn, not validated: the units from this process's snapshot, the category's
                # default first (their query was ~2 ms of an open case's page). A unit closed
                # in another process since is still refused by the queryset above on submit.
                suggested = case.category.default_handling_unit_id
                units = sorted(
                    (
                        (pk, name)
                        for pk, name, region_code in reference.dispatch_units.get()
                        if serves(region_code, case)
                    ),
                    key=lambda unit: unit[0] != suggested,
                )
                self.fields["unit"].choices = [("", self.fields["unit"].empty_label), *units]
        if Requirement.AMOUNT in requires:
            # The extension is counted in the running stage's unit: say which, and the limit now.
            stage = case.stages.filter(ended_at=None).order_by("-started_at", "-id").first()
            help_text = _("与处置时限同一单位")
            if stage is not None and stage.amount is not None:
                help_text = _("单位：%(unit)s（当前时限 %(amount)s %(unit)s）") % {
                    "unit": stage.get_time_unit_display(),
                    "amount": f"{stage.amount.normalize():f}",
                }
            self.fields["amount"] = forms.DecimalField(
                label=_("延长时限"),
                min_value=0.01,
                max_digits=8,
                decimal_places=2,
                help_text=help_text,
                error_messages={"required": _("请填写延长的时限")},
            )
        if Requirement.DUPLICATE_OF in requires:
            self.fields["duplicate_of"] = forms.CharField(
                label=_("原案件编号"), max_length=32, error_messages={"required": _("请填写重复的原案件编号")}
            )
        if action == Action.HANDLED:
            self.fields["resolution_mode"] = forms.ChoiceField(
                label=_("解决方式"), choices=ResolutionMode.choices, initial=ResolutionMode.SERVICE, widget=FastSelect
            )
        if Requirement.AFTER_PHOTO in requires or action in OPTIONAL_PHOTO:
            required = Requirement.AFTER_PHOTO in requires
            self.fields["photos"] = MultiplePhotoField(
                label=_("处置后照片") if required else _("现场照片"),
                required=required,
                error_messages={"required": _("请上传处置后照片")},
            )
            self.fields["photos"].widget.attrs["capture"] = "environment"
        if Requirement.REASON in requires or action in OPTIONAL_NOTE:
            required = Requirement.REASON in requires
            self.fields["note"] = forms.CharField(
                label=_("原因") if required else _("说明"),
                required=required,
                max_length=2000,
                widget=FastTextarea(attrs={"rows": 2}),
                error_messages={"required": _("请填写原因")},
            )
            if action == Action.KEEP_CLOSED:
                # The reason is the reply the reporter reads on the portal's private link.
                self.fields["note"].label = _("答复群众")
                self.fields["note"].help_text = _("将显示在群众的查询页面上，请勿填写个人信息。")
                self.fields["note"].error_messages["required"] = _("请填写给群众的答复")
                self.fields["note"].widget.attrs["rows"] = 4

    @property
    def label(self) -> str:
        return str(self.action.label)

    @property
    def is_negative(self) -> bool:
        """A refusal, rejection or failure: drawn as a red button."""
        return self.action in NEGATIVE

    @property
    def is_simple(self) -> bool:
        """True when the action asks nothing but a click (the form is a single button)."""
        return not any(name in self.fields for name in FIELD_OF)

    def to_input(self) -> dict:
        data = self.cleaned_data
        unit = data.get("unit")
        return {
            "action": self.action.value,
            "version": data["version"],
            "note": data.get("note", ""),
            "unit_id": unit.pk if unit else None,
            "amount": data.get("amount"),
            "duplicate_of": (data.get("duplicate_of") or "").strip() or None,
            "resolution_mode": data.get("resolution_mode", ""),
            "photos": data.get("photos") or [],
        }


def dispatch_units():
    """The units a case can be sent to: active, and not the bureau or its two centers."""
    return OrgUnit.objects.filter(is_active=True).exclude(
        kind__in=[OrgUnit.Kind.SUPERVISION_CENTER, OrgUnit.Kind.COMMAND_CENTER, OrgUnit.Kind.BUREAU]
    )


def units_for_dispatch(case):
    """Active handling units of the case's county, the category's default unit first (the
    suggestion)."""
    qs = serving(dispatch_units(), case)
    suggested = case.category.default_handling_unit_id
    if suggested:
        qs = qs.annotate(
            suggested=SqlCase(When(pk=suggested, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("suggested", "code")
    else:
        qs = qs.order_by("code")
    return qs


#
# Report
#


class ReportForm(forms.Form):
    """A report from the operator desk or an inspector's phone; case_report checks the rest."""

    channel = forms.ChoiceField(label=_("来源渠道"), widget=FastSelect)
    category = forms.IntegerField(
        label=_("问题分类"), widget=forms.HiddenInput, error_messages={"required": _("请选择问题分类")}
    )
    lon = forms.FloatField(label=_("经度"), error_messages={"required": _("请在地图上点选位置或填写经纬度")})
    lat = forms.FloatField(label=_("纬度"), error_messages={"required": _("请在地图上点选位置或填写经纬度")})
    description = forms.CharField(
        label=_("问题描述"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写问题描述")},
    )
    address = forms.CharField(label=_("地址"), max_length=256, required=False)
    reporter_name = forms.CharField(label=_("反映人"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    urgent = forms.BooleanField(label=_("紧急"), required=False)
    # 自处理: an inspector fixed a minor problem on the spot; the center reviews it.
    self_handled = forms.BooleanField(label=_("已当场处理（自处理）"), required=False)
    photos = MultiplePhotoField(label=_("现场照片"), required=False)

    def __init__(self, *args, user, mobile: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if user.role == Role.INSPECTOR:
            self.fields["channel"].choices = [(Channel.INSPECTOR.value, Channel.INSPECTOR.label)]
            self.fields["channel"].initial = Channel.INSPECTOR.value
        else:
            del self.fields["self_handled"]
            self.fields["channel"].choices = [c for c in Channel.choices if c[0] != Channel.INSPECTOR]
            self.fields["channel"].initial = Channel.OPERATOR.value
        if mobile:
            for name in ("reporter_name", "reporter_phone", "address", "urgent"):
                del self.fields[name]
            self.fields["photos"].widget.attrs["capture"] = "environment"
        self.category_name = ""
        if self.is_bound and self.data.get(self.add_prefix("category"), "").isdigit():
            found = Category.objects.filter(pk=self.data[self.add_prefix("category")]).first()
            self.category_name = found.name if found else ""
