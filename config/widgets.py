"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

SELECTED = mark_safe(" selected")  # a constant attribute


class QuickSelect(forms.Select):
    """A select box written in Python.

    Django's Select renders every option through a template (about 0.1 ms an option): a filter
    bar with a few dozen options cost a quarter of a list page. The HTML is the same as Django's
    for flat choices; grouped choices fall back to Django's rendering.
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(iter(self.choices))  # iter(): no COUNT query from a model iterator
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        if self.allow_multiple_selected:
            final["multiple"] = True
        chosen = set(self.format_value(value))
        lines = []
        for option, label in choices:
            text = "" if option is None else str(option)
            selected = text in chosen
            if selected and not self.allow_multiple_selected:
                chosen = set()  # a single select marks its first match only, as Django does
            lines.append((text, SELECTED if selected else "", label))
        options = format_html_join("\n", '<option value="{}"{}>{}</option>', lines)
        return format_html("<select{}>\n{}\n</select>", flatatt(final), options)
