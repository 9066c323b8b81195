from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("dossiers/<int:pk>/<slug:field>/", views.reveal_dossier, name="reveal_dossier"),
    path("items/<int:pk>/phone/", views.reveal_item, name="reveal_item"),
    path("appointments/<int:pk>/phone/", views.reveal_appointment, name="reveal_appointment"),
]
