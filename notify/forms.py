from django import forms
from django.utils.translation import gettext_lazy as _

STAR_CHOICES = [(n, str(n)) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": _("Choose from 1 to 5 stars."),
            "invalid_choice": _("Choose from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class FollowUpCloseForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class TemplatePreviewForm(forms.Form):
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))
    dossier_code = forms.CharField(label=_("Dossier code to preview with"), max_length=40, required=False)
