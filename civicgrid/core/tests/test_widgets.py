"""FastSelect draws the same <select> as Django's template-rendered Select, only faster."""

from django import forms
from django.test import SimpleTestCase

from civicgrid.core.widgets import FastHiddenInput, FastSelect, FastSelectMultiple, FastTextarea

CHOICES = [("", "全部"), ("1", "路灯<损坏>"), ("2", "井盖 & 盖板"), ("组", [("3", "甲"), ("4", "乙")])]


def normalised(html: str) -> str:
    """Whitespace between tags (Django's option template adds newlines) and the order of the
    <select> tag's attributes do not matter to a browser."""
    html = " ".join(html.split()).replace("> <", "><")
    head, rest = html.split(">", 1)
    return " ".join(sorted(head.removeprefix("<select ").split())) + ">" + rest


class FastSelectTests(SimpleTestCase):
    def test_it_draws_what_djangos_select_draws(self):
        for value in (None, "", "1", "4", 2, ["2"]):
            with self.subTest(value=value):
                attrs = {"id": "id_f", "required": True, "class": "x"}
                expected = forms.Select(choices=CHOICES).render("f", value, attrs)
                drawn = FastSelect(choices=CHOICES).render("f", value, attrs)
                self.assertEqual(normalised(drawn), normalised(expected))

    def test_it_escapes_labels_and_marks_the_selected_option(self):
        html = FastSelect(choices=CHOICES).render("f", "1")
        self.assertIn('<option value="1" selected>路灯&lt;损坏&gt;</option>', html)
        self.assertIn("井盖 &amp; 盖板", html)
        self.assertEqual(html.count(" selected"), 1)

    def test_it_draws_a_multiple_select_like_django(self):
        expected = forms.SelectMultiple(choices=CHOICES).render("f", ["1", "3"])
        self.assertEqual(normalised(FastSelectMultiple(choices=CHOICES).render("f", ["1", "3"])), normalised(expected))

    def test_it_marks_the_selected_option_in_options_drawn_before(self):
        drawn = FastSelect()._options(CHOICES, set())
        for value in (None, "", "1", "4"):
            with self.subTest(value=value):
                widget = FastSelect(choices=CHOICES)
                widget.options_html = lambda: drawn
                self.assertEqual(widget.render("f", value), FastSelect(choices=CHOICES).render("f", value))
                self.assertEqual(
                    widget.use_required_attribute(None), FastSelect(choices=CHOICES).use_required_attribute(None)
                )


class FastInputTests(SimpleTestCase):
    def test_they_draw_what_djangos_widgets_draw(self):
        attrs = {"id": "id_f", "required": True, "disabled": False, "data-x": 'a"b'}
        for value in (None, "", 0, 7, "<b>&", ["x"]):
            with self.subTest(value=value):
                for fast, django in ((FastHiddenInput, forms.HiddenInput), (FastTextarea, forms.Textarea)):
                    self.assertEqual(
                        fast(attrs={"rows": 2}).render("f", value, attrs),
                        django(attrs={"rows": 2}).render("f", value, attrs),
                    )
