"""API v1: dossiers from provincial systems, tracking events from carriers, weekly rates for
upward reporting and webhook subscriptions (docs/api.md)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import dossier_sync, tracking
from api.authentication import client_of
from api.idempotency import idempotent
from api.models import Scope, WebhookSubscription
from api.problems import Problem
from api.serializers import (
    BatchResultSerializer,
    DossierBatchSerializer,
    DossierDetailSerializer,
    DossierPageSerializer,
    DossierRowSerializer,
    DossierSerializer,
    ProblemSerializer,
    SubscriptionSerializer,
    TrackingEventSerializer,
    TrackingResultSerializer,
    WeeklyRatesSerializer,
    tracking_event_data,
)
from communes import scoping
from communes.models import AdministrativeUnit
from dossiers import workdays
from dossiers.models import DossierEvent
from dossiers.selectors import dossiers_visible_to
from postal.models import PostalItem
from reports import rates
from reports import selectors as report_selectors
from reports.weeks import WeekError, parse_week, week_label, week_of

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional. The same key with the same request returns the first answer again.",
)
PROBLEMS = {
    code: OpenApiResponse(ProblemSerializer, description=description)
    for code, description in (
        (400, "Malformed request (problem details)"),
        (401, "No valid client token"),
        (403, "The token lacks the scope"),
        (404, "Not in the client's scope"),
        (409, "Conflict"),
        (413, "Batch too large"),
        (422, "Rules refused the data; nothing written"),
        (429, "Rate limit reached; see Retry-After"),
    )
}
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
MAX_WEEKS = 106


class ApiView(APIView):
    required_scopes: dict[str, str] = {}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        limit = getattr(request, "rate_limit", None)
        if limit is not None:
            response["RateLimit-Limit"], response["RateLimit-Remaining"], response["RateLimit-Reset"] = map(
                str, limit
            )
        return response


def _invalid_rows(errors: list[dossier_sync.RowError]) -> Problem:
    return Problem(
        422,
        "invalid-dossiers",
        _("The dossier data is not valid; nothing was written."),
        " ".join(f"[{error.index}] {error.detail}" if error.index else error.detail for error in errors[:20]),
        errors=[error.as_dict() for error in errors],
    )


def _row(data) -> dict:
    if not isinstance(data, dict):
        raise Problem(400, "invalid-body", _("The request body is not valid."), _("Send one JSON object."))
    return data


def _personal(request) -> bool:
    client = client_of(request)
    return client is not None and client.has_scope(Scope.DOSSIERS_PERSONAL)


class DossierView(ApiView):
    required_scopes = {"GET": Scope.DOSSIERS_READ, "PUT": Scope.DOSSIERS_WRITE}

    @extend_schema(
        summary="One dossier with its history and postal items",
        operation_id="dossier_get",
        responses={200: DossierDetailSerializer, **PROBLEMS},
    )
    def get(self, request, code: str):
        dossier = get_object_or_404(
            dossiers_visible_to(request.user)
            .select_related("procedure", "receiving_unit")
            .prefetch_related(
                Prefetch("events", queryset=DossierEvent.objects.order_by("at", "id")),
                Prefetch("postal_items", queryset=PostalItem.objects.order_by("id")),
            ),
            code=code,
        )
        return Response(DossierDetailSerializer(dossier, context={"personal": _personal(request)}).data)

    @extend_schema(
        summary="Create or update one dossier (import-format columns)",
        request=DossierRowSerializer,
        responses={200: DossierSerializer, 201: DossierSerializer, **PROBLEMS},
    )
    def put(self, request, code: str):
        row = dict(_row(request.data))
        given = str(row.get("ma_ho_so") or "").strip()
        if given and given != code:
            raise Problem(
                422,
                "code-mismatch",
                _("The dossier code in the body differs from the one in the address."),
                _("ma_ho_so “%(body)s” is not %(code)s.") % {"body": given[:50], "code": code[:50]},
            )
        row["ma_ho_so"] = code
        try:
            (outcome,) = dossier_sync.upsert_dossiers(client=client_of(request), rows=[row])
        except dossier_sync.RowsRejected as rejected:
            raise _invalid_rows(rejected.errors) from None
        dossier = (
            dossiers_visible_to(request.user)
            .select_related("procedure", "receiving_unit")
            .get(pk=outcome.dossier_id)
        )
        body = {
            **DossierSerializer(dossier, context={"personal": _personal(request)}).data,
            "result": outcome.result,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if outcome.result == "created" else status.HTTP_200_OK
        )


class DossierBatchView(ApiView):
    required_scopes = {"POST": Scope.DOSSIERS_WRITE}

    @extend_schema(
        summary="Create or update up to 1,000 dossiers, all or nothing",
        tags=["dossiers"],
        request=DossierBatchSerializer,
        responses={200: BatchResultSerializer, **PROBLEMS},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        data = _row(request.data)
        rows = data.get("dossiers")
        if not isinstance(rows, list) or not rows:
            raise Problem(
                400, "invalid-body", _("The request body is not valid."), _('Send {"dossiers": [ … ]}.')
            )
        if len(rows) > dossier_sync.MAX_BATCH:
            raise Problem(
                413,
                "batch-too-large",
                _("The batch is too large."),
                _("Send at most %(max)d dossiers at once; this batch has %(count)d.")
                % {"max": dossier_sync.MAX_BATCH, "count": len(rows)},
            )
        if not all(isinstance(row, dict) for row in rows):
            raise Problem(
                400, "invalid-body", _("The request body is not valid."), _("Each dossier is a JSON object.")
            )
        try:
            outcomes = dossier_sync.upsert_dossiers(client=client_of(request), rows=rows)
        except dossier_sync.RowsRejected as rejected:
            raise _invalid_rows(rejected.errors) from None
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for outcome in outcomes:
            counts[outcome.result] += 1
        return Response(
            {**counts, "results": [{"code": outcome.code, "result": outcome.result} for outcome in outcomes]}
        )


def _encode_cursor(moment: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{pk}".encode()).decode()


def _decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        moment, pk = base64.urlsafe_b64decode(text.encode()).decode().split("|")
        parsed = datetime.fromisoformat(moment)
        if timezone.is_naive(parsed):
            raise ValueError
        return parsed, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(
            400, "invalid-cursor", _("The cursor is not valid."), _("Pass next_cursor exactly as received.")
        ) from None


def _moment(text: str, name: str) -> datetime:
    parsed = parse_datetime(text.strip().replace(" ", "+")) if text else None
    if parsed is None:
        raise Problem(
            400,
            "invalid-parameter",
            _("A query parameter is not valid."),
            _("%(name)s must be a date and time in ISO 8601, e.g. 2026-11-20T08:00:00+07:00.")
            % {"name": name},
        )
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=workdays.TZ)


class DossierListView(ApiView):
    required_scopes = {"GET": Scope.DOSSIERS_READ}

    @extend_schema(
        summary="Dossiers changed since a time, oldest change first, by cursor",
        operation_id="dossier_list",
        parameters=[
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Only dossiers changed at or after."
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="next_cursor of the previous page."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size, at most {MAX_PAGE_SIZE}."),
            OpenApiParameter("unit", OpenApiTypes.STR, description="Only this commune (code)."),
        ],
        responses={200: DossierPageSerializer, **PROBLEMS},
    )
    def get(self, request):
        params = request.query_params
        qs = dossiers_visible_to(request.user).select_related("procedure", "receiving_unit")
        if params.get("updated_since"):
            qs = qs.filter(updated_at__gte=_moment(params["updated_since"], "updated_since"))
        if params.get("unit"):
            qs = qs.filter(receiving_unit__code=params["unit"])
        if params.get("cursor"):
            moment, pk = _decode_cursor(params["cursor"])
            qs = qs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
        try:
            limit = min(max(int(params.get("limit", PAGE_SIZE)), 1), MAX_PAGE_SIZE)
        except ValueError:
            limit = PAGE_SIZE
        page = list(qs.order_by("updated_at", "pk")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        return Response(
            {
                "results": DossierSerializer(page, many=True, context={"personal": _personal(request)}).data,
                "next_cursor": _encode_cursor(page[-1].updated_at, page[-1].pk) if more else None,
            }
        )


class ItemEventsView(ApiView):
    required_scopes = {"POST": Scope.ITEMS_WRITE}

    @extend_schema(
        summary="A carrier's tracking event for a postal item",
        request=TrackingEventSerializer,
        responses={200: TrackingResultSerializer, 201: TrackingResultSerializer, **PROBLEMS},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request, code: str):
        data = tracking_event_data(request.data)
        recipient = tracking.Recipient(**data["recipient"]) if data.get("recipient") else None
        if data["at"] > timezone.now() + timedelta(minutes=10):
            raise Problem(
                422, "event-in-future", _("The event time is in the future."), _("Check the carrier's clock.")
            )
        try:
            event, new, item_status = tracking.record_event(
                client=client_of(request),
                code=code,
                event_id=data["event_id"],
                kind=data["kind"],
                at=data["at"],
                reason=data.get("reason", ""),
                recipient=recipient,
                note=data.get("note", ""),
            )
        except (tracking.EventConflict, IntegrityError):  # IntegrityError: the same id, at once
            raise Problem(
                409,
                "event-id-conflict",
                _("This event id was already used for another event."),
                _("Event ids are unique per carrier: %(id)s was sent before for another item or kind.")
                % {"id": data["event_id"]},
            ) from None
        return Response(
            {
                "event_id": event.event_id,
                "outcome": event.outcome,
                "duplicate": not new,
                "item_status": item_status,
            },
            status=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
        )


class WeeklyRatesView(ApiView):
    required_scopes = {"GET": Scope.REPORTS_READ}

    @extend_schema(
        summary="Weekly counts and rates of a unit (docs/reports.md)",
        parameters=[
            OpenApiParameter(
                "unit",
                OpenApiTypes.STR,
                required=True,
                description="Unit code (commune, district, province).",
            ),
            OpenApiParameter(
                "from", OpenApiTypes.STR, description="First week, YYYY-Www (default: 7 weeks before `to`)."
            ),
            OpenApiParameter("to", OpenApiTypes.STR, description="Last week, YYYY-Www (default: this week)."),
        ],
        responses={200: WeeklyRatesSerializer, **PROBLEMS},
    )
    def get(self, request):
        params = request.query_params
        unit = AdministrativeUnit.objects.filter(code=params.get("unit", "")).first()
        if unit is None:
            raise Problem(
                404, "not-found", _("Not found."), _("No unit with this code exists in your scope.")
            )
        scoping.ensure_unit_in_scope(request.user, unit.pk)
        try:
            last = parse_week(params["to"]) if params.get("to") else week_of(timezone.now())
            first = parse_week(params["from"]) if params.get("from") else last - timedelta(weeks=7)
        except WeekError as exc:
            raise Problem(400, "invalid-parameter", _("A query parameter is not valid."), str(exc)) from None
        if first > last:
            raise Problem(
                400, "invalid-parameter", _("A query parameter is not valid."), _("“from” is after “to”.")
            )
        if (last - first).days // 7 + 1 > MAX_WEEKS:
            raise Problem(
                400,
                "invalid-parameter",
                _("A query parameter is not valid."),
                _("Ask for at most %(count)d weeks at once.") % {"count": MAX_WEEKS},
            )
        series = report_selectors.weekly_series(unit, first, last)
        rows = [_week_row(monday, counts) for monday, counts in series]
        total = rates.sum_counts(counts for _monday, counts in series)
        return Response(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "weeks": rows,
                "total": {**_week_row(first, total), "week": f"{week_label(first)}/{week_label(last)}"},
                "computed_at": report_selectors.computed_at(first, last),
            }
        )


def _week_row(monday, counts: dict) -> dict:
    from reports.models import COUNTERS

    clean = {name: counts[name] or 0 for name in COUNTERS}
    return {
        "week": week_label(monday),
        "week_start": monday,
        "counts": clean,
        "rates": {
            metric: (float(value) if value is not None else None)
            for metric, value in rates.all_rates(clean).items()
        },
    }


class SubscriptionListView(ApiView):
    required_scopes = {"GET": Scope.WEBHOOKS_MANAGE, "POST": Scope.WEBHOOKS_MANAGE}

    def _mine(self, request):
        return WebhookSubscription.objects.filter(client=client_of(request)).order_by("id")

    @extend_schema(
        summary="This client's webhook subscriptions", responses={200: SubscriptionSerializer(many=True)}
    )
    def get(self, request):
        return Response(SubscriptionSerializer(self._mine(request), many=True).data)

    @extend_schema(
        summary="Subscribe an address to events",
        request=SubscriptionSerializer,
        responses={201: SubscriptionSerializer, **PROBLEMS},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        serializer = SubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = serializer.save(client=client_of(request))
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(ApiView):
    required_scopes = {"GET": Scope.WEBHOOKS_MANAGE, "DELETE": Scope.WEBHOOKS_MANAGE}

    def _get(self, request, pk: int) -> WebhookSubscription:
        return get_object_or_404(WebhookSubscription, client=client_of(request), pk=pk)

    @extend_schema(summary="One subscription", responses={200: SubscriptionSerializer})
    def get(self, request, pk: int):
        return Response(SubscriptionSerializer(self._get(request, pk)).data)

    @extend_schema(summary="Stop a subscription", responses={204: None})
    def delete(self, request, pk: int):
        self._get(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
