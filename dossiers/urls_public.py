"""Public pages (no login): the citizens' dossier lookup at /track/."""

from django.urls import path

from dossiers import views

app_name = "tracking"
urlpatterns = [
    path("", views.track, name="track"),
]
