"""Form widgets.

`FastSelect` renders a <select> in Python. Django's template renderer draws each option
through its own template, which made a workbench page's filter bar (258 categories, the
streets, statuses) most of the page's time; this draws the same markup in a fraction of it.
`FastHiddenInput` and `FastTextarea` do the same for the case page's action forms (each form's
version and reason: ~0.2-0.3 ms each through the templates, ~1.2 ms of an open case's page).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


def _escape(value) -> str:
    """django.utils.html.conditional_escape without its lazy-string wrapper: the same text
    (Django's escape is html.escape), a third of the time per option."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


class FastSelect(forms.Select):
    # A form may set this to a function returning the options' markup with none selected, drawn
    # once and kept across requests by its owner (see FilterForm's categories); render() then only
    # marks the selected option instead of drawing every option again. Its first option must be
    # the empty one ("全部"): see use_required_attribute.
    options_html: Callable[[], str] | None = None

    def use_required_attribute(self, initial) -> bool:
        if self.options_html is not None:
            # Django's asks whether the first choice is empty, and normalised all the choices
            # to find it (~1 ms for the 258 categories); with options_html it is.
            return not self.is_hidden
        return super().use_required_attribute(initial)

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        if self.options_html is not None:
            options = mark_selected(self.options_html(), selected)
        else:
            options = self._options(self.choices, selected)
        return mark_safe(f'<select name="{_escape(name)}"{flatatt(final_attrs)}>{options}</select>')

    def _options(self, choices, selected: set[str]) -> str:
        """The options' markup; every value and label escaped (as format_html did, faster)."""
        parts = []
        for value, label in choices:
            if isinstance(label, list | tuple):  # an optgroup
                parts.append(f'<optgroup label="{_escape(value)}">{self._options(label, selected)}</optgroup>')
                continue
            text = "" if value is None else str(value)
            mark = " selected" if text in selected else ""
            parts.append(f'<option value="{_escape(text)}"{mark}>{_escape(label)}</option>')
        return "".join(parts)


def mark_selected(options: str, selected: set[str]) -> str:
    """Options drawn by FastSelect._options with none selected, with these values marked."""
    for value in selected:
        tag = f'<option value="{escape(value)}"'
        options = options.replace(f"{tag}>", f"{tag} selected>")
    return options


class FastSelectMultiple(FastSelect):
    allow_multiple_selected = True


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: False left out, True a bare name."""
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastHiddenInput(forms.HiddenInput):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{_escape(widget["value"])}"'
        return mark_safe(f'<input type="{self.input_type}" name="{_escape(name)}"{shown}{_attrs(widget["attrs"])}>')


class FastTextarea(forms.Textarea):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        text = _escape(widget["value"]) if widget["value"] else ""
        return mark_safe(f'<textarea name="{_escape(name)}"{_attrs(widget["attrs"])}>\n{text}</textarea>')
