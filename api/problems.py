"""Errors as RFC 9457 problem details (``application/problem+json``), in the language the client
asks for with ``Accept-Language`` (Vietnamese by default, English available).

Every problem has a stable ``type`` a program can branch on; ``title`` and ``detail`` are for
people. Validation problems list each problem in ``errors`` (with the row of a batch).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "tag:postdesk,2026:problem/"


class Problem(exceptions.APIException):
    """An error with its problem type, raised by the API's own code."""

    def __init__(self, status_code: int, kind: str, title: str, detail: str = "", **extra):
        self.status_code = status_code
        self.kind = kind
        self.title = title
        self.extra = extra
        super().__init__(detail or title)


def problem_response(
    request, *, status_code: int, kind: str, title: str, detail: str = "", **extra
) -> Response:
    body = {
        "type": TYPE_BASE + kind,
        "title": str(title),
        "status": status_code,
        "detail": str(detail or title),
        "instance": request.path if request is not None else "",
        **extra,
    }
    response = Response(body, status=status_code, content_type=CONTENT_TYPE)
    response["Content-Language"] = get_language() or "vi"
    return response


def _flatten(detail, prefix="") -> list[dict]:
    """DRF's nested error details as a flat list of {field, detail}."""
    if isinstance(detail, dict):
        found = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            found += _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
        return found
    if isinstance(detail, list):
        found = []
        for value in detail:
            found += _flatten(value, prefix)
        return found
    return [{"field": prefix, "detail": str(detail)}]


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, Problem):
        return problem_response(
            request,
            status_code=exc.status_code,
            kind=exc.kind,
            title=exc.title,
            detail=str(exc.detail),
            **exc.extra,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        errors = [{"field": "", "detail": message} for message in exc.messages]
        return problem_response(
            request,
            status_code=422,
            kind="invalid",
            title=_("The request cannot be carried out."),
            detail=" ".join(exc.messages),
            errors=errors,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return problem_response(
            request,
            status_code=status.HTTP_400_BAD_REQUEST,
            kind="invalid-body",
            title=_("The request body is not valid."),
            detail=" ".join(f"{e['field']}: {e['detail']}" if e["field"] else e["detail"] for e in errors),
            errors=errors,
        )
    if isinstance(exc, exceptions.Throttled):
        response = problem_response(
            request,
            status_code=429,
            kind="rate-limited",
            title=_("Too many requests."),
            detail=_(
                "This client sent more requests than its limit per minute. Try again in %(seconds)d seconds."
            )
            % {"seconds": int(exc.wait or 60)},
        )
        response["Retry-After"] = str(int(exc.wait or 60))
        return response
    known = {
        exceptions.NotAuthenticated: (
            "unauthenticated",
            _("Authentication is required."),
            _("Send a client token as “Authorization: Bearer <token>”."),
        ),
        exceptions.AuthenticationFailed: ("unauthenticated", _("Authentication failed."), None),
        exceptions.PermissionDenied: ("forbidden", _("Not allowed."), None),
        exceptions.NotFound: (
            "not-found",
            _("Not found."),
            _("Nothing with this identifier exists in your scope."),
        ),
        exceptions.MethodNotAllowed: ("method-not-allowed", _("Method not allowed."), None),
        exceptions.ParseError: ("malformed", _("The request body cannot be read."), None),
        exceptions.UnsupportedMediaType: (
            "unsupported-media-type",
            _("Send the body as application/json."),
            None,
        ),
        exceptions.NotAcceptable: ("not-acceptable", _("The requested format is not available."), None),
    }
    for cls, (kind, title, detail) in known.items():
        if isinstance(exc, cls):
            response = problem_response(
                request,
                status_code=exc.status_code,
                kind=kind,
                title=title,
                detail=detail or str(exc.detail),
            )
            if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
                response["WWW-Authenticate"] = 'Bearer realm="api"'
            if isinstance(exc, exceptions.MethodNotAllowed):
                view = context.get("view")
                if view is not None:
                    response["Allow"] = ", ".join(view.allowed_methods)
            return response
    if isinstance(exc, exceptions.APIException):
        return problem_response(
            request, status_code=exc.status_code, kind="error", title=str(exc.detail), detail=str(exc.detail)
        )
    return None  # a bug: Django's 500 handling and logging
