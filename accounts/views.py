from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.forms import LoginForm
from accounts.navigation import counters_for, menu_for


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    """Each role's landing page: what this role does here, as large entry points."""
    user = request.user
    return render(
        request,
        "accounts/home.html",
        {"role_label": user.get_role_display(), "entries": menu_for(user), "counters": counters_for(user)},
    )
