from django.urls import path

from postal import app_views, views

app_name = "postal"
urlpatterns = [
    path("scan/", views.scan, name="scan"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/move/", app_views.item_move, name="item_move"),
    path("items/<int:pk>/attempt/", app_views.item_attempt, name="item_attempt"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("items/<int:pk>/label/", app_views.item_label, name="item_label"),
    path("items/<int:pk>/label.pdf", app_views.item_label_pdf, name="item_label_pdf"),
    path(
        "items/<int:pk>/attempts/<int:attempt_id>/<str:kind>/",
        app_views.attempt_proof,
        name="attempt_proof",
    ),
    # The installable app: manifest and service worker at the scope of the postal screens.
    path("manifest.webmanifest", app_views.manifest, name="manifest"),
    path("sw.js", app_views.service_worker, name="service_worker"),
    path("offline/", app_views.offline_page, name="offline"),
    path("offline/pages.json", app_views.offline_pages, name="offline_pages"),
    # The desk's one click from a processed dossier (linked from the dossier page).
    path("return/<int:dossier_id>/", views.return_item_create, name="return_item_create"),
    path("intake/", views.intake_create, name="intake_create"),
    path("intake/<int:pk>/slip/", views.intake_slip, name="intake_slip"),
    path("handovers/", views.handover_list, name="handover_list"),
    path("handovers/new/", views.handover_create, name="handover_create"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover_detail"),
    path("handovers/<int:pk>/lines/", views.handover_add_line, name="handover_add_line"),
    path("handovers/<int:pk>/lines/<int:line_id>/", views.handover_line, name="handover_line"),
    path("handovers/<int:pk>/sign/", views.handover_sign, name="handover_sign"),
    path("handovers/<int:pk>/print/", views.handover_print, name="handover_print"),
    path("handovers/<int:pk>/pdf/", views.handover_pdf, name="handover_pdf"),
    path("appointments/", views.appointment_list, name="appointment_list"),
    path("appointments/new/", views.appointment_create, name="appointment_create"),
    path("appointments/<int:pk>/mark/", views.appointment_mark, name="appointment_mark"),
    path("transfers/", views.transfer_matrix, name="transfer_matrix"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
]
