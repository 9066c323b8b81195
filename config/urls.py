from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("network/", include("communes.urls")),
    path("dossiers/", include("dossiers.urls")),
    path("track/", include("dossiers.urls_public")),
    path("postal/", include("postal.urls")),
    path("reports/", include("reports.urls")),
    path("privacy/", include("privacy.urls")),
    # Citizens' rating and stop links (/rate/<token>/, /stop/<token>/) and follow-ups.
    path("", include("notify.urls")),
    path("api/", include("api.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
