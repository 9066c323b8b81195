"""Thin forms: they collect input; the rules live in postal/services/ and postal/transfers.py."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Role, User
from communes import scoping
from communes.models import PostOffice
from dossiers.models import DeclineReason, DossierDocument, Procedure, ProcedureField, ReturnChannel
from postal.models import DeliveryAttempt, DeliveryTier, Handover, TaskTransfer

DATE_WIDGET = forms.DateInput(attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
DATETIME_WIDGET = forms.DateTimeInput(attrs={"placeholder": "dd/mm/yyyy hh:mm"})


class ScanForm(forms.Form):
    code = forms.CharField(
        label=_("Item code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "placeholder": "EB123456785VN",
                "class": "form-control form-control-lg",
            }
        ),
    )


class DeliveryForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=DeliveryAttempt.Outcome.choices)
    recipient_name = forms.CharField(label=_("Recipient's name"), max_length=150, required=False)
    id_checked = forms.BooleanField(label=_("Identity document checked"), required=False)
    is_proxy = forms.BooleanField(label=_("Received by a proxy"), required=False)
    proxy_authorisation = forms.CharField(label=_("Authorisation"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


def _offices_of_unit(unit_id):
    return PostOffice.objects.filter(
        commune_id=unit_id, status=PostOffice.Status.OPERATING, offers_bcci_return=True
    )


class ReturnItemForm(forms.Form):
    post_office = forms.ModelChoiceField(label=_("Post office"), queryset=PostOffice.objects.none())
    tier = forms.ChoiceField(
        label=_("Delivery tier"), choices=DeliveryTier.choices, initial=DeliveryTier.LOCAL
    )
    postage = forms.IntegerField(label=_("Postage (VND)"), initial=0)
    fees_collected = forms.IntegerField(label=_("Fees to collect for the agency (VND)"), initial=0)

    def __init__(self, *args, dossier, **kwargs):
        super().__init__(*args, **kwargs)
        offices = _offices_of_unit(dossier.receiving_unit_id)
        parent_ids = offices.exclude(parent=None).values_list("parent_id", flat=True)
        self.fields["post_office"].queryset = PostOffice.objects.filter(
            pk__in=list(offices.values_list("pk", flat=True)) + list(parent_ids)
        ).order_by("kind", "code")


class HandoverForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=Handover.Direction.choices)
    desk_unit = forms.ModelChoiceField(label=_("Desk (commune)"), queryset=None)
    post_office = forms.ModelChoiceField(label=_("Post office"), queryset=None)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk_unit"].queryset = scoping.communes_visible_to(user).order_by("name")
        self.fields["post_office"].queryset = scoping.post_offices_visible_to(user).order_by("code")
        if user.role == Role.COMMUNE_OFFICIAL:
            self.fields["direction"].initial = Handover.Direction.DESK_TO_POST
            self.fields["desk_unit"].initial = user.unit_id
        elif user.post_office_id:
            self.fields["direction"].initial = Handover.Direction.POST_TO_DESK
            self.fields["post_office"].initial = user.post_office_id


class AddLineForm(forms.Form):
    code = forms.CharField(
        label=_("Item code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "placeholder": "EB123456785VN"}
        ),
    )
    complete = forms.BooleanField(label=_("Complete"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class IntakeForm(forms.Form):
    receiving_unit = forms.ModelChoiceField(label=_("Commune receiving the dossier"), queryset=None)
    procedure = forms.ModelChoiceField(
        label=_("Procedure"), queryset=Procedure.objects.filter(active=True, bcci_intake_allowed=True)
    )
    applicant_name = forms.CharField(label=_("Applicant"), max_length=150)
    applicant_phone = forms.CharField(label=_("Phone"), max_length=15, required=False)
    applicant_address = forms.CharField(label=_("Address"), max_length=300, required=False)
    applicant_id_number = forms.RegexField(
        label=_("Identity number (CCCD)"),
        regex=r"^\d{12}$",
        required=False,
        error_messages={"invalid": _("An identity number has 12 digits.")},
    )
    return_channel = forms.ChoiceField(
        label=_("How the result is returned"), choices=ReturnChannel.choices, initial=ReturnChannel.BCCI
    )
    decline_reason = forms.ChoiceField(
        label=_("Reason for not choosing postal return"),
        choices=[("", "—"), *DeclineReason.choices],
        required=False,
    )
    postage = forms.IntegerField(label=_("Postage (VND)"), initial=0)
    fees_collected = forms.IntegerField(label=_("Fees collected for the agency (VND)"), initial=0)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiving_unit"].queryset = scoping.communes_visible_to(user).order_by("name")


class DocumentForm(forms.Form):
    name = forms.CharField(label=_("Document"), max_length=300, required=False)
    form = forms.ChoiceField(
        label=_("Original or copy"), choices=DossierDocument.Form.choices, initial=DossierDocument.Form.COPY
    )
    count = forms.IntegerField(label=_("Copies"), min_value=1, initial=1)


DocumentFormSet = formset_factory(DocumentForm, extra=4)


class AppointmentForm(forms.Form):
    citizen_name = forms.CharField(label=_("Citizen"), max_length=150)
    citizen_phone = forms.CharField(label=_("Phone"), max_length=15)
    address = forms.CharField(label=_("Address"), max_length=300)
    commune = forms.ModelChoiceField(label=pgettext_lazy("postal", "Commune"), queryset=None)
    procedure = forms.ModelChoiceField(
        label=_("Procedure"), queryset=Procedure.objects.filter(active=True, bcci_intake_allowed=True)
    )
    post_office = forms.ModelChoiceField(label=_("Post office"), queryset=None)
    slot_start = forms.DateTimeField(label=_("From"), widget=DATETIME_WIDGET)
    slot_end = forms.DateTimeField(label=pgettext_lazy("time slot", "To"), widget=DATETIME_WIDGET)
    assigned_to = forms.ModelChoiceField(label=_("Assigned staff"), queryset=None, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        offices = scoping.post_offices_visible_to(user).order_by("code")
        self.fields["commune"].queryset = scoping.communes_visible_to(user).order_by("name")
        self.fields["post_office"].queryset = offices
        self.fields["assigned_to"].queryset = User.objects.filter(
            role=Role.POSTAL_STAFF, post_office__in=offices, is_active=True
        ).order_by("full_name")
        if user.post_office_id:
            self.fields["post_office"].initial = user.post_office_id
        if user.unit_id:
            self.fields["commune"].initial = user.unit_id


class TransferForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=pgettext_lazy("postal", "Commune"),
        queryset=None,
        error_messages={"invalid_choice": _("This commune is outside your scope.")},
    )
    field = forms.ModelChoiceField(
        label=_("Field"),
        queryset=ProcedureField.objects.order_by("name"),
        error_messages={"invalid_choice": _("This procedure field does not exist.")},
    )
    task = forms.ChoiceField(label=_("Task"), choices=TaskTransfer.Task.choices)
    planned_date = forms.DateField(label=_("Planned date"), widget=DATE_WIDGET)
    staff = forms.ModelMultipleChoiceField(label=_("Staff assigned"), queryset=None, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = scoping.communes_visible_to(user).order_by("name")
        self.fields["staff"].queryset = User.objects.filter(
            role=Role.POSTAL_STAFF, post_office__in=scoping.post_offices_visible_to(user)
        ).order_by("full_name")


class CompleteTransferForm(forms.Form):
    done_date = forms.DateField(label=_("Date done"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
