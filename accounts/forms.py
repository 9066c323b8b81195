from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Wrong username or password. Please check and try again; after several failed "
            "attempts the account is locked for a while."
        ),
        "inactive": _("This account is disabled. Please contact the administrator."),
    }

    # The user model's own limit: longer input is refused before authentication, so nothing
    # downstream (the lockout records) receives it.
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
