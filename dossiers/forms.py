"""Forms of the dossiers pages: thin — the services validate and decide."""

from __future__ import annotations

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from communes.models import AdministrativeUnit
from config.widgets import QuickSelect
from core.bounds import BoundedForm
from core.params import MAX_TEXT
from dossiers.models import (
    DeclineReason,
    DossierDocument,
    ImportJob,
    IntakeChannel,
    Procedure,
    ProcedureField,
    ReturnChannel,
    Status,
)
from dossiers.selectors import EXTRA_FILTERS, ORDERS

DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%d/%m/%Y"]
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """Reads the choices with one plain query. Django's iterator uses ``QuerySet.iterator()``,
    which on PostgreSQL opens a server-side cursor (three round trips per select box)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    """A select box over a short table (procedures, fields, communes)."""

    iterator = ListedChoiceIterator


class ProcedureChoiceField(ListedModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.field.name} · {obj.name} ({obj.national_code})"


def apply_service_errors(
    form: forms.Form, error: ValidationError, *, field_map: dict | None = None
) -> list[str]:
    """Put a service's ValidationError on the form's fields; return messages with no field."""
    field_map = field_map or {}
    leftover: list[str] = []
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return leftover
    for name, messages in error.message_dict.items():
        target = field_map.get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, message)
        else:
            leftover.extend(messages)
    return leftover


def submission_field() -> forms.UUIDField:
    """The one-time key of an intake form (dossiers.services.submit_once): a new one each time
    the empty form is shown, the same one when the form comes back with errors."""
    return forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)


class IntakeForm(BoundedForm):
    submission = submission_field()
    procedure = ProcedureChoiceField(
        label=_("Procedure"),
        queryset=Procedure.objects.filter(active=True)
        .select_related("field")
        .order_by("field__name", "name"),
        error_messages={
            "required": _("Choose a procedure from the catalogue."),
            "invalid_choice": _("Choose a procedure from the catalogue."),
        },
    )
    receiving_unit = forms.ModelChoiceField(
        label=_("Receiving commune"),
        queryset=AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.COMMUNE).order_by("name"),
        required=False,
    )
    applicant_name = forms.CharField(label=_("Applicant's full name"), max_length=150)
    applicant_phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, help_text=_("Required when the result goes by post.")
    )
    applicant_address = forms.CharField(
        label=_("Address"),
        max_length=300,
        required=False,
        help_text=_("Where the postman delivers the result; required when it goes by post."),
    )
    applicant_id_number = forms.CharField(
        label=_("Identity number (CCCD)"),
        max_length=12,
        required=False,
        help_text=_("Optional; 12 digits. Shown masked after saving."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    intake_channel = forms.TypedChoiceField(
        label=_("Submitted via"),
        choices=IntakeChannel.choices,
        coerce=int,
        initial=IntakeChannel.IN_PERSON,
        widget=forms.RadioSelect,
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        required=False,
        input_formats=DATETIME_FORMATS,
        help_text=_("dd/mm/yyyy hh:mm; leave empty for now."),
        widget=forms.DateTimeInput(format="%d/%m/%Y %H:%M", attrs={"placeholder": "dd/mm/yyyy hh:mm"}),
    )
    return_channel = forms.ChoiceField(
        label=_("How the result is returned"),
        choices=ReturnChannel.choices,
        initial=ReturnChannel.BCCI,
        widget=forms.RadioSelect,
    )
    decline_reason = forms.ChoiceField(
        label=_("Why not by post?"),
        choices=[("", "---------"), *DeclineReason.choices],
        required=False,
    )
    decline_note = forms.CharField(label=_("Other reason"), max_length=300, required=False)
    messages_declined = forms.BooleanField(
        label=_("The citizen does not want text messages (Zalo/SMS)"), required=False
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and user.unit_id and user.unit.level == AdministrativeUnit.Level.COMMUNE:
            del self.fields["receiving_unit"]
        else:
            self.fields["receiving_unit"].required = True
        self.fields["procedure"].widget.attrs.update({"data-intake": "procedure"})
        self.fields["received_at"].widget.attrs["data-intake"] = "received_at"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            # Typing part of a procedure's name (diacritics optional) narrows the list below;
            # Enter picks the first match (static/js/dossiers.js).
            HTML(
                '{% load i18n %}<div class="mb-2"><label class="form-label" for="procedure-search">'
                '{% translate "Quick search by name, code or field" %}</label>'
                '<input type="search" class="form-control" id="procedure-search" autocomplete="off" '
                'autofocus aria-controls="id_procedure" aria-describedby="procedure-search-help">'
                '<div class="form-text" id="procedure-search-help" aria-live="polite" data-template="'
                '{% translate "Procedures that match: %s. Enter chooses the first." %}">'
                '{% translate "Type a few letters, then Enter to choose the first match." %}</div></div>'
            ),
            Field("submission"),
            Field("procedure"),
            *(["receiving_unit"] if "receiving_unit" in self.fields else []),
            Row(
                Column("applicant_name", css_class="col-md-6"),
                Column("applicant_phone", css_class="col-md-3"),
                Column("applicant_id_number", css_class="col-md-3"),
            ),
            Field("applicant_address"),
            Row(Column("intake_channel", css_class="col-md-6"), Column("received_at", css_class="col-md-6")),
            Row(Column("return_channel", css_class="col-md-6")),
            Div(
                Row(
                    Column("decline_reason", css_class="col-md-6"),
                    Column("decline_note", css_class="col-md-6"),
                ),
                css_id="decline-fields",
            ),
            Field("messages_declined"),
        )


class DocumentForm(BoundedForm):
    """A row of the documents table; a row left without a name is ignored."""

    name = forms.CharField(label=_("Document"), max_length=300, required=False)
    form = forms.ChoiceField(label=_("Original or copy"), choices=DossierDocument.Form.choices)
    count = forms.IntegerField(label=_("Copies"), min_value=1, max_value=99, initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rows are a table without a label per cell: each input names its column and row
        # for screen readers ("Giấy tờ, dòng 2"). The empty row's number is set when it is added.
        row = self.prefix.rsplit("-", 1)[-1] if self.prefix else ""
        number = str(int(row) + 1) if row.isdigit() else "__number__"
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = _("%(column)s, row %(row)s") % {
                "column": field.label,
                "row": number,
            }


# absolute_max: a forged TOTAL_FORMS of thousands must not build (and render) a thousand forms.
MAX_DOCUMENTS = 40
DocumentFormSet = forms.formset_factory(
    DocumentForm, extra=2, max_num=MAX_DOCUMENTS, absolute_max=MAX_DOCUMENTS, validate_max=True
)


def documents_initial(procedure: Procedure | None) -> list[dict]:
    if procedure is None:
        return []
    return [
        {"name": name, "form": DossierDocument.Form.ORIGINAL, "count": 1} for name in procedure.document_list
    ]


class ActionForm(BoundedForm):
    """The fields an action needs; ``version`` carries the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action in ("refuse", "stop"):
            self.fields["reason"] = forms.CharField(
                label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3})
            )
        elif action == "withdraw":
            self.fields["reason"] = forms.CharField(
                label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
        elif action == "request_supplement":
            self.fields["items"] = forms.CharField(
                label=_("Documents to supplement"), widget=forms.Textarea(attrs={"rows": 3})
            )
        elif action == "request_payment":
            self.fields["amount"] = forms.IntegerField(label=_("Amount (VND)"), min_value=1)
            self.fields["note"] = forms.CharField(label=_("Note"), required=False)
        elif action == "extend":
            self.fields["new_due_date"] = forms.DateField(
                label=_("New due date"),
                input_formats=DATE_FORMATS,
                widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
            )
            self.fields["reason"] = forms.CharField(
                label=_("Reason for the delay"), widget=forms.Textarea(attrs={"rows": 3})
            )
        elif action == "return_result":
            self.fields["channel"] = forms.ChoiceField(
                label=_("Returned"),
                choices=[
                    (ReturnChannel.DESK, ReturnChannel.DESK.label),
                    (ReturnChannel.ONLINE, ReturnChannel.ONLINE.label),
                ],
                initial=ReturnChannel.DESK,
                widget=forms.RadioSelect,
            )
        elif action == "accept":
            self.fields["at"] = forms.DateTimeField(
                label=_("Handover signed at"),
                input_formats=DATETIME_FORMATS,
                widget=forms.DateTimeInput(
                    format="%d/%m/%Y %H:%M", attrs={"placeholder": "dd/mm/yyyy hh:mm"}
                ),
            )
        elif action in ("finish", "complete_supplement", "confirm_payment"):
            self.fields["note"] = forms.CharField(label=_("Note"), required=False)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class DossierFilterForm(BoundedForm):
    FLAG_CHOICES = [
        ("", _("All")),
        ("overdue", _("Overdue")),
        ("due_today", _("Due today")),
        ("nearly_due", _("Due within 2 working days")),
    ]

    q = forms.CharField(label=_("Code or applicant"), required=False, max_length=MAX_TEXT)
    status = forms.TypedChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *Status.choices],
        coerce=int,
        required=False,
        empty_value=None,
        widget=QuickSelect,
    )
    field = ListedModelChoiceField(
        label=_("Field"), queryset=ProcedureField.objects.all(), required=False, widget=QuickSelect
    )
    procedure = ListedModelChoiceField(
        label=_("Procedure"), queryset=Procedure.objects.order_by("name"), required=False, widget=QuickSelect
    )
    intake_channel = forms.TypedChoiceField(
        label=_("Intake"),
        choices=[("", _("All")), *IntakeChannel.choices],
        coerce=int,
        required=False,
        empty_value=None,
        widget=QuickSelect,
    )
    return_channel = forms.ChoiceField(
        label=_("Return"),
        choices=[("", _("All")), *ReturnChannel.choices],
        required=False,
        widget=QuickSelect,
    )
    flag = forms.ChoiceField(label=_("Deadline"), choices=FLAG_CHOICES, required=False, widget=QuickSelect)
    unit = ListedModelChoiceField(
        label=_("Commune"), queryset=AdministrativeUnit.objects.none(), required=False, widget=QuickSelect
    )
    received_from = forms.DateField(
        label=_("Received from"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
    )
    received_to = forms.DateField(
        label=_("to"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
    )

    sort = forms.ChoiceField(label=_("Sort by"), choices=(), required=False, widget=QuickSelect)

    def __init__(self, *args, communes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort"].choices = [(key, order.label) for key, order in ORDERS.items()]
        for name, extra in EXTRA_FILTERS.items():
            self.fields[name] = forms.ChoiceField(
                label=extra.label,
                choices=[("", _("All")), *extra.choices],
                required=False,
                widget=QuickSelect,
            )
        self.order_fields([name for name in self.fields if name != "sort"] + ["sort"])
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = _("All")
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        if communes is not None:
            self.fields["unit"].queryset = communes
        else:
            del self.fields["unit"]


class ImportForm(BoundedForm):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    mode = forms.ChoiceField(
        label=_("When some rows are bad"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class TrackingForm(BoundedForm):
    code = forms.CharField(label=_("Dossier code"), max_length=40)
    pin = forms.CharField(
        label=_("Lookup PIN"),
        max_length=6,
        min_length=6,
        help_text=_("The 6 digits printed on your receipt."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean_pin(self):
        return self.cleaned_data["pin"].strip()


class DossierEditForm(forms.Form):
    """Corrections after saving: the applicant, the address and how the result is returned.
    ``version`` is the version the official saw (a change meanwhile is refused, not lost)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    applicant_name = IntakeForm.base_fields["applicant_name"]
    # Personal numbers are never put into the page whole: the boxes start empty with the masked
    # value as a hint, and an empty box keeps the number on file.
    applicant_phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to keep the number on file; type a new number to correct it."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    applicant_id_number = forms.CharField(
        label=_("Identity number (CCCD)"),
        max_length=12,
        required=False,
        help_text=_("Leave empty to keep the number on file; type 12 digits to correct it."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    applicant_address = IntakeForm.base_fields["applicant_address"]
    return_channel = IntakeForm.base_fields["return_channel"]
    decline_reason = IntakeForm.base_fields["decline_reason"]
    decline_note = IntakeForm.base_fields["decline_note"]

    def __init__(self, *args, masked_phone: str = "", masked_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if masked_phone:
            self.fields["applicant_phone"].widget.attrs["placeholder"] = masked_phone
        if masked_id:
            self.fields["applicant_id_number"].widget.attrs["placeholder"] = masked_id
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "version",
            Row(
                Column("applicant_name", css_class="col-md-6"),
                Column("applicant_phone", css_class="col-md-3"),
                Column("applicant_id_number", css_class="col-md-3"),
            ),
            Field("applicant_address"),
            Row(Column("return_channel", css_class="col-md-6")),
            Div(
                Row(
                    Column("decline_reason", css_class="col-md-6"),
                    Column("decline_note", css_class="col-md-6"),
                ),
                css_id="decline-fields",
            ),
        )
