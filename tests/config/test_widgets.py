"""config.widgets.QuickSelect writes the same HTML as Django's Select, faster."""

import pytest
from django import forms
from django.test.html import parse_html

from config.widgets import QuickSelect

CHOICES = [("", "All"), (1, "Mới đăng ký"), (2, 'a <b> & "c"'), ("x", "X")]


@pytest.mark.parametrize("value", [None, "", 1, "1", 2, "x", "missing", ["1", "x"]])
@pytest.mark.parametrize("attrs", [None, {"id": "id_status", "required": True, "class": "form-select"}])
def test_same_html_as_django(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("status", value, attrs=attrs)
    quick_html = QuickSelect(choices=CHOICES).render("status", value, attrs=attrs)
    assert parse_html(quick_html) == parse_html(django_html)


def test_multiple_selection_same_as_django():
    django_html = forms.SelectMultiple(choices=CHOICES).render("s", ["1", "x"])

    class QuickMultiple(QuickSelect):
        allow_multiple_selected = True

    assert parse_html(QuickMultiple(choices=CHOICES).render("s", ["1", "x"])) == parse_html(django_html)


def test_grouped_choices_fall_back_to_django():
    grouped = [("Group", [(1, "One"), (2, "Two")]), (3, "Three")]
    html = QuickSelect(choices=grouped).render("g", 2)
    assert parse_html(html) == parse_html(forms.Select(choices=grouped).render("g", 2))
