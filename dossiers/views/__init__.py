"""Pages of the dossiers app, one module per page: thin — selectors read, services and the
workflow write. The view functions are re-exported here for the URL configuration."""

from dossiers.views.detail import dossier_action, dossier_detail
from dossiers.views.import_jobs import import_detail, import_status, import_template, import_upload
from dossiers.views.intake import dossier_create, intake_documents, intake_preview
from dossiers.views.lists import dossier_export, dossier_list
from dossiers.views.paper import apology, receipt
from dossiers.views.public import track

__all__ = [
    "apology",
    "dossier_action",
    "dossier_create",
    "dossier_detail",
    "dossier_export",
    "dossier_list",
    "import_detail",
    "import_status",
    "import_template",
    "import_upload",
    "intake_documents",
    "intake_preview",
    "receipt",
    "track",
]
