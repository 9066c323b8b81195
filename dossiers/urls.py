from django.urls import path

from dossiers import views

app_name = "dossiers"
urlpatterns = [
    path("", views.dossier_list, name="list"),
    path("export.csv", views.dossier_export, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.dossier_export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("new/", views.dossier_create, name="create"),
    path("new/due-date/", views.intake_preview, name="intake_preview"),
    path("new/documents/", views.intake_documents, name="intake_documents"),
    path("<int:pk>/", views.dossier_detail, name="detail"),
    path("<int:pk>/action/<slug:action>/", views.dossier_action, name="action"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/receipt.pdf", views.receipt, {"pdf": True}, name="receipt_pdf"),
    path("<int:pk>/edit/", views.dossier_edit, name="edit"),
    path("<int:pk>/refusal/", views.refusal_slip, name="refusal"),
    path("<int:pk>/refusal.pdf", views.refusal_slip, {"pdf": True}, name="refusal_pdf"),
    path("<int:pk>/supplements/<int:request_id>/", views.supplement_slip, name="supplement"),
    path(
        "<int:pk>/supplements/<int:request_id>.pdf",
        views.supplement_slip,
        {"pdf": True},
        name="supplement_pdf",
    ),
    path("<int:pk>/apology/", views.apology, name="apology"),
    path("<int:pk>/apology.pdf", views.apology, {"pdf": True}, name="apology_pdf"),
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/template.csv", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", views.import_status, name="import_status"),
    path("imports/<int:pk>/restart/", views.import_restart, name="import_restart"),
]
