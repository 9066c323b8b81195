"""What the API reads and writes. Dossier bodies are rows of docs/import-format.md: they are
described here for the schema and checked by the importer's row check."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.models import EventType, Scope, WebhookSubscription
from api.tracking import FAILURE_REASONS, KINDS
from dossiers.importing import COLUMNS, REQUIRED
from dossiers.personal import mask_id_number, mask_phone

_HELP = {
    "ma_ho_so": "Dossier code, e.g. 000.01.16.H44-260715-0001 (taken from the URL on PUT).",
    "ma_thu_tuc": "National procedure code from the catalogue.",
    "ma_don_vi": "Commune code or its one-stop identifier.",
    "kenh_tiep_nhan": "1 in person, 2 online, 3 BCCI.",
    "hinh_thuc_tra_ket_qua": "tai_quay, truc_tuyen or bcci.",
    "trang_thai": "National status code 1–10.",
    "ngay_tiep_nhan": "dd/mm/yyyy hh:mm or ISO 8601; local time (Asia/Ho_Chi_Minh) when no offset.",
}


class DossierRowSerializer(serializers.Serializer):
    """One dossier in the columns of the import format (values as text or numbers)."""

    def get_fields(self):
        return {
            name: serializers.CharField(
                required=name in REQUIRED and name != "ma_ho_so",
                allow_blank=True,
                help_text=_HELP.get(name, ""),
            )
            for name in COLUMNS
        }


class DossierBatchSerializer(serializers.Serializer):
    dossiers = DossierRowSerializer(many=True, help_text="At most 1,000 rows; all are written or none.")


class UpsertResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = UpsertResultSerializer(many=True)


class DossierSerializer(serializers.Serializer):
    code = serializers.CharField()
    procedure = serializers.CharField(source="procedure.national_code")
    unit = serializers.CharField(source="receiving_unit.code")
    applicant_name = serializers.CharField()
    applicant_phone = serializers.SerializerMethodField()
    applicant_address = serializers.CharField()
    applicant_id_number = serializers.SerializerMethodField(
        help_text="Masked unless the token has dossiers:personal."
    )
    intake_channel = serializers.IntegerField()
    return_channel = serializers.CharField()
    decline_reason = serializers.CharField()
    status = serializers.IntegerField()
    status_label = serializers.CharField(source="get_status_display")
    received_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    original_due_date = serializers.DateField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    timeliness = serializers.CharField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()

    def _personal(self) -> bool:
        return bool(self.context.get("personal"))

    def get_applicant_phone(self, dossier) -> str:
        return dossier.applicant_phone if self._personal() else mask_phone(dossier.applicant_phone)

    def get_applicant_id_number(self, dossier) -> str:
        return (
            dossier.applicant_id_number if self._personal() else mask_id_number(dossier.applicant_id_number)
        )


class DossierEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    from_status = serializers.IntegerField(allow_null=True)
    to_status = serializers.IntegerField(allow_null=True)


class ItemSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    direction = serializers.CharField()
    status = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DossierDetailSerializer(DossierSerializer):
    events = DossierEventSerializer(many=True)
    postal_items = ItemSummarySerializer(many=True)


class DossierPageSerializer(serializers.Serializer):
    results = DossierSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next page.")


class RecipientSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    id_checked = serializers.BooleanField(help_text="The recipient showed an identity document.")
    is_proxy = serializers.BooleanField(default=False)
    proxy_authorisation = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TrackingEventSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=100, help_text="The carrier's own id; a repeated id is ignored."
    )
    kind = serializers.ChoiceField(choices=list(KINDS))
    at = serializers.DateTimeField(help_text="When it happened at the carrier (ISO 8601 with offset).")
    reason = serializers.ChoiceField(
        choices=FAILURE_REASONS, required=False, help_text="For delivery_failed."
    )
    recipient = RecipientSerializer(required=False, help_text="For delivered.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


_EVENT_KEYS = frozenset({"event_id", "kind", "at", "reason", "recipient", "note"})
_RECIPIENT_KEYS = frozenset({"name", "id_checked", "is_proxy", "proxy_authorisation"})
_EVENT_AT = serializers.DateTimeField()  # as TrackingEventSerializer's ``at``


def _plain_text(value, max_length: int, *, blank: bool) -> str | None:
    """A CharField's value when the serializer would take it unchanged but for the trimming; None
    when only the serializer can say (not a string, blank, too long, a NUL or surrogate…)."""
    if type(value) is not str:
        return None
    value = value.strip()
    if not value:
        return value if blank else None
    if len(value) > max_length or not value.isprintable():
        return None
    return value


def tracking_event_data(data) -> dict:
    """``TrackingEventSerializer(data=data)``'s validated data, without building the serializer
    for the bodies carriers send (its fields are deep-copied on every instance: about 0.3 ms of
    CPU an event). Anything unusual — a missing or extra key, another type, an empty or long text,
    a control character, a time the ISO 8601 parser refuses — goes to the serializer itself, so a
    refusal is exactly its own (the same problem details and messages)."""
    fast = _plain_event(data)
    if fast is not None:
        return fast
    serializer = TrackingEventSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _plain_event(data) -> dict | None:
    if type(data) is not dict or not data.keys() <= _EVENT_KEYS:
        return None
    event_id = _plain_text(data.get("event_id"), 100, blank=False)
    kind, at = data.get("kind"), data.get("at")
    if event_id is None or type(kind) is not str or kind not in KINDS or type(at) is not str:
        return None
    try:
        at = _EVENT_AT.to_internal_value(at)
    except serializers.ValidationError:
        return None
    note = _plain_text(data.get("note", ""), 200, blank=True)
    if note is None:
        return None
    validated = {"event_id": event_id, "kind": kind, "at": at}
    if "reason" in data:
        if type(data["reason"]) is not str or data["reason"] not in FAILURE_REASONS:
            return None
        validated["reason"] = data["reason"]
    if "recipient" in data:
        recipient = _plain_recipient(data["recipient"])
        if recipient is None:
            return None
        validated["recipient"] = recipient
    validated["note"] = note
    return validated


def _plain_recipient(data) -> dict | None:
    if type(data) is not dict or not data.keys() <= _RECIPIENT_KEYS:
        return None
    name = _plain_text(data.get("name"), 150, blank=False)
    id_checked, is_proxy = data.get("id_checked"), data.get("is_proxy", False)
    authorisation = _plain_text(data.get("proxy_authorisation", ""), 100, blank=True)
    if name is None or type(id_checked) is not bool or type(is_proxy) is not bool or authorisation is None:
        return None
    return {
        "name": name,
        "id_checked": id_checked,
        "is_proxy": is_proxy,
        "proxy_authorisation": authorisation,
    }


class TrackingResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["applied", "unchanged", "stale"])
    duplicate = serializers.BooleanField()
    item_status = serializers.CharField()


class WeekRowSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="YYYY-Www")
    week_start = serializers.DateField()
    counts = serializers.DictField(child=serializers.IntegerField())
    rates = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    )


class WeeklyRatesSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_name = serializers.CharField()
    weeks = WeekRowSerializer(many=True)
    total = WeekRowSerializer()
    computed_at = serializers.DateTimeField(allow_null=True)


class SubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.MultipleChoiceField(choices=EventType.choices)
    secret = serializers.CharField(read_only=True, help_text="Verify signatures with it (Standard Webhooks).")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "secret", "is_active", "created_at", "disabled_note"]
        read_only_fields = ["id", "secret", "is_active", "created_at", "disabled_note"]

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError(_("The address must start with https:// or http://."))
        return value

    def validate_events(self, value) -> list[str]:
        if not value:
            raise serializers.ValidationError(_("Choose at least one event."))
        return sorted(value)


SCOPE_CHOICES = Scope.values


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (application/problem+json)."""

    type = serializers.CharField(
        help_text="Stable identifier of the kind of problem, tag:postdesk,2026:problem/…"
    )
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), required=False)
