"""Forms for the post office network. They collect input; the services decide and save."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communes import scoping
from communes.models import AdministrativeUnit, NetworkAction, PostOffice
from communes.selectors import SERVICE_FLAGS, network_actions_visible_to
from communes.services import OFFICE_FIELDS

DATE_PLACEHOLDER = "dd/mm/yyyy"


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"placeholder": DATE_PLACEHOLDER, "autocomplete": "off"}
        ),
        **kwargs,
    )


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class PostOfficeForm(forms.Form):
    """The fields of an office, built from the model; the service validates the whole record."""

    def __init__(self, *args, user, instance: PostOffice | None = None, **kwargs):
        self.instance = instance or PostOffice()
        if instance is not None:
            kwargs.setdefault("initial", model_to_dict(instance, fields=OFFICE_FIELDS))
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(PostOffice, fields=OFFICE_FIELDS))
        self.fields["commune"].queryset = scoping.communes_visible_to(user).order_by("name")
        parents = scoping.post_offices_visible_to(user).exclude(kind=PostOffice.Kind.AGENT)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents.order_by("code")
        for name in ("latitude", "longitude", "floor_area_m2"):
            field = self.fields[name]
            field.localize = True
            field.widget = forms.TextInput(attrs={"inputmode": "decimal"})
            field.widget.is_localized = True
        self.fields["latitude"].help_text = _("Decimal degrees, e.g. 17,5901")
        self.fields["longitude"].help_text = _("Decimal degrees, e.g. 106,5312")
        self.fields["code"].help_text = _("e.g. BDVHX-19111")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Identification"),
                Row(
                    Column("code", css_class="col-md-3"), Column("name", css_class="col-md-5"), Column("kind")
                ),
                Row(Column("commune"), Column("parent"), Column("status")),
                "address",
                Row(Column("latitude"), Column("longitude")),
            ),
            Fieldset(
                _("Premises and staff"),
                Row(Column("premises"), Column("floor_area_m2"), Column("condition"), Column("staff_count")),
                "opening_hours",
            ),
            Fieldset(
                _("Services"),
                "combined_with_desk",
                "offers_bcci_intake",
                "offers_bcci_return",
                "offers_online_assistance",
                "offers_digitisation",
            ),
        )


class NetworkActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of action"), choices=NetworkAction.Kind.choices)
    post_office = forms.ModelChoiceField(
        label=_("Post office"), queryset=PostOffice.objects.none(), required=False
    )
    commune = forms.ModelChoiceField(
        label=_("Commune"),
        queryset=AdministrativeUnit.objects.none(),
        required=False,
        help_text=_("For an action about a whole commune, e.g. opening a point where there is none."),
    )
    responsible = forms.ChoiceField(label=_("Responsible"), choices=NetworkAction.Responsible.choices)
    due_date = date_field(pgettext_lazy("network action", "Due date"))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post_office"].queryset = (
            scoping.post_offices_visible_to(user).select_related("commune").order_by("code")
        )
        self.fields["commune"].queryset = scoping.communes_visible_to(user).order_by("name")
        self.helper = FormHelper()
        self.helper.form_tag = False


class NetworkActionUpdateForm(forms.Form):
    responsible = forms.ChoiceField(label=_("Responsible"), choices=NetworkAction.Responsible.choices)
    due_date = date_field(pgettext_lazy("network action", "Due date"))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CompleteActionForm(forms.Form):
    completed_on = date_field(_("Completion date"))
    office_condition = forms.ChoiceField(
        label=_("Condition of the office now"),
        choices=[("", _("Unchanged")), *PostOffice.Condition.choices],
        required=False,
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, action: NetworkAction, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("completed_on", timezone.localdate())
        if action.post_office_id and action.kind in (NetworkAction.Kind.REPAIR, NetworkAction.Kind.REFURBISH):
            kwargs["initial"].setdefault("office_condition", PostOffice.Condition.GOOD)
        super().__init__(*args, **kwargs)
        if not action.post_office_id:
            del self.fields["office_condition"]
        self.helper = FormHelper()
        self.helper.form_tag = False


class CancelActionForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


# ---------------------------------------------------------------------------------------------
# List filters (GET forms; invalid values are ignored rather than reported)

YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def _any(choices) -> list:
    return [("", _("Any")), *choices]


class FilterForm(forms.Form):
    """A GET form of list filters, styled for Bootstrap; invalid input filters nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data  # the valid fields only


class OfficeFilterForm(FilterForm):
    q = forms.CharField(label=_("Code or name"), required=False)
    commune = forms.ModelChoiceField(
        label=_("Commune"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=_any(PostOffice.Kind.choices), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=_any(PostOffice.Status.choices), required=False)
    condition = forms.ChoiceField(
        label=_("Condition"), choices=_any(PostOffice.Condition.choices), required=False
    )
    combined = forms.ChoiceField(label=_("Combined desk"), choices=YES_NO, required=False)
    service = forms.ChoiceField(
        label=_("Service"),
        choices=_any(
            [(key, PostOffice._meta.get_field(flag).verbose_name) for key, flag in SERVICE_FLAGS.items()]
        ),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offices = scoping.post_offices_visible_to(user)
        # Only communes that have an office: an administrator's scope is the whole country.
        self.fields["commune"].queryset = (
            scoping.communes_visible_to(user)
            .filter(Exists(offices.filter(commune=OuterRef("pk"))))
            .order_by("name")
        )
        self.fields["commune"].empty_label = _("Any")


class ActionFilterForm(FilterForm):
    commune = forms.ModelChoiceField(
        label=_("Commune"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=_any(NetworkAction.Kind.choices), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=_any(NetworkAction.Status.choices), required=False)
    responsible = forms.ChoiceField(
        label=_("Responsible"), choices=_any(NetworkAction.Responsible.choices), required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        actions = network_actions_visible_to(user)
        self.fields["commune"].queryset = (
            scoping.communes_visible_to(user)
            .filter(Exists(actions.filter(commune=OuterRef("pk"))))
            .order_by("name")
        )
        self.fields["commune"].empty_label = _("Any")
