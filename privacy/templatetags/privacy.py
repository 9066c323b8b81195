"""``{% reveal_button obj "field" %}``: the "show" button, only for those the rule allows."""

from django import template
from django.urls import reverse

from dossiers.models import Dossier
from postal.models import PickupAppointment, PostalItem
from privacy import rules

register = template.Library()


@register.inclusion_tag("privacy/fragment_reveal_button.html", takes_context=True)
def reveal_button(context, obj, field: str = "phone", inline: bool = True):
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = bool(user and rules.may_reveal(user, obj))
    url = ""
    if allowed:
        if isinstance(obj, Dossier):
            url = reverse("privacy:reveal_dossier", args=[obj.pk, field])
        elif isinstance(obj, PostalItem):
            url = reverse("privacy:reveal_item", args=[obj.pk])
        elif isinstance(obj, PickupAppointment):
            url = reverse("privacy:reveal_appointment", args=[obj.pk])
    return {"allowed": allowed and bool(url), "url": url, "inline": inline, "field": field}
