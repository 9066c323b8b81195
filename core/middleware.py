"""Requests carrying a NUL character in a parameter name or value are refused (400) before any
view runs: no form field, filter or note accepts one, and PostgreSQL cannot store one in text."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(query_dict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists()
    )


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        posted = request.method == "POST" and request.content_type in FORM_TYPES
        if "\x00" in request.path or _has_nul(request.GET) or (posted and _has_nul(request.POST)):
            return HttpResponseBadRequest(_("The request contains a character that is not allowed."))
        return self.get_response(request)
