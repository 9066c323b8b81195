from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes import scoping
from communes.models import AdministrativeUnit
from reports.models import Metric

PERCENT_MESSAGE = _("A target is a percentage between 0 and 100.")


class TargetForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=AdministrativeUnit.objects.none(), label=_("Unit"))
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2000,
        max_value=2100,
        error_messages={
            "min_value": _("Enter a year between 2000 and 2100."),
            "max_value": _("Enter a year between 2000 and 2100."),
        },
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    value = forms.DecimalField(
        label=_("Target (%)"),
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        localize=True,
        error_messages={
            "min_value": PERCENT_MESSAGE,
            "max_value": PERCENT_MESSAGE,
            "max_digits": PERCENT_MESSAGE,
            "max_decimal_places": _("Use at most one decimal, e.g. 95,5."),
        },
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("year", timezone.localdate().year)
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = scoping.units_visible_to(user).order_by("level", "name")
        if user.unit_id:
            self.fields["unit"].initial = user.unit_id
