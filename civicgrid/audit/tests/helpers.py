"""Shared test helpers: admin form data, every entry as text."""

import json

from civicgrid.audit.models import AuditEntry


def change_form_data(response) -> dict:
    """The POST data an admin change page would send unchanged: main form, inline management forms and rows."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)
    return data


def all_entries_text() -> str:
    """Every stored audit entry as one JSON text, to look for things that must never be logged."""
    return json.dumps(list(AuditEntry.objects.values()), default=str, ensure_ascii=False)
