from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import schema, views  # noqa: F401 - schema: the token scheme, registered on import

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a file: no inline script, so the
    # site's Content-Security-Policy (script-src 'self') holds on this page too.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/dossiers", views.DossierListView.as_view(), name="dossier_list"),
    path("v1/dossiers:batch", views.DossierBatchView.as_view(), name="dossier_batch"),
    path("v1/dossiers/<str:code>", views.DossierView.as_view(), name="dossier"),
    path("v1/items/<str:code>/events", views.ItemEventsView.as_view(), name="item_events"),
    path("v1/weekly-rates", views.WeeklyRatesView.as_view(), name="weekly_rates"),
    path("v1/webhooks", views.SubscriptionListView.as_view(), name="subscription_list"),
    path("v1/webhooks/<int:pk>", views.SubscriptionDetailView.as_view(), name="subscription"),
]
