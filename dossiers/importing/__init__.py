"""Import of dossiers exported by a provincial one-stop system (CSV or XLSX).

The format is documented in docs/import-format.md. The file is streamed twice (``csv`` module,
openpyxl ``read_only``), so 100,000 rows need little memory:

1. every row is checked; nothing is written. With ``mode=all`` a single bad row rejects the
   file and the job lists each bad row with its line number and reason;
2. valid rows are written in batches of ``BATCH_SIZE``, each batch one transaction:
   new codes are created, known codes are updated (upsert by code), unchanged rows are skipped,
   so importing the same file again creates nothing.

Progress is stored on the ImportJob row after each batch, for the page that polls it.
Imported rows mirror the provincial system's state: they do not go through the workflow
transitions, but every created or changed dossier gets a ``dossier.imported`` /
``dossier.import_updated`` event.
"""

from dossiers.importing.checking import Catalogue, check_row
from dossiers.importing.jobs import count_rows, create_job, create_job_from_path, run_import
from dossiers.importing.reading import (
    BATCH_SIZE,
    COLUMNS,
    INLINE_IMPORT_BYTES,
    MAX_FILE_BYTES,
    OPTIONAL,
    REQUIRED,
    ImportFileError,
    open_table,
)
from dossiers.importing.writing import bump_code_sequences

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "INLINE_IMPORT_BYTES",
    "MAX_FILE_BYTES",
    "OPTIONAL",
    "REQUIRED",
    "Catalogue",
    "ImportFileError",
    "bump_code_sequences",
    "check_row",
    "count_rows",
    "create_job",
    "create_job_from_path",
    "open_table",
    "run_import",
]
