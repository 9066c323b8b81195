from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("recompute/", views.recompute, name="recompute"),
    path("runs/<int:pk>/", views.run_status, name="run_status"),
    path("targets/", views.targets, name="targets"),
    path("exports/", views.exports, name="exports"),
    path("exports/<str:kind>.<str:fmt>", views.export, name="export"),
]
