"""Import of dossiers exported by a provincial one-stop system (CSV or XLSX).

The format is documented in docs/import-format.md. One pass over the file (``csv`` module,
openpyxl ``read_only``) checks every row; the good rows go to a stage (a temporary table filled
by COPY on PostgreSQL, a spool file elsewhere), where the codes are checked against each other
and the database. With ``mode=all`` a single bad row rejects the file (each bad row listed with
its line and every problem); otherwise the good rows are written. Either way the file is written
in ONE transaction: all of it or nothing, whatever its size. Known codes are updated when
something changed (upsert by code), new ones created, so importing the same file again creates
nothing. Every created or changed dossier gets a ``dossier.imported`` / ``dossier.import_updated``
event, and the weeks whose figures change are marked.

- ``reading``: the columns, the limits, streaming CSV and XLSX;
- ``checking``: the rule set of one row (``check_row``; ``validate_row`` for a single dossier
  from elsewhere, e.g. the API);
- ``writing`` (portable, the ORM) and ``writing_postgres`` (staging table, set-wise SQL);
- ``jobs``: running a job, its progress, jobs whose worker died.
"""

from dossiers.importing.checking import Catalogue, check_row, validate_row
from dossiers.importing.jobs import (
    PortableStage,
    count_rows,
    create_job,
    create_job_from_path,
    fail_stalled_jobs,
    restart_job,
    run_import,
)
from dossiers.importing.reading import (
    BATCH_SIZE,
    COLUMNS,
    INLINE_IMPORT_BYTES,
    LIMITS,
    MAX_FILE_BYTES,
    OPTIONAL,
    REQUIRED,
    ImportFileError,
    open_table,
    work_size,
)
from dossiers.importing.writing import bump_code_sequences
from dossiers.importing.writing_postgres import PostgresStage

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "INLINE_IMPORT_BYTES",
    "LIMITS",
    "MAX_FILE_BYTES",
    "OPTIONAL",
    "REQUIRED",
    "Catalogue",
    "ImportFileError",
    "PortableStage",
    "PostgresStage",
    "bump_code_sequences",
    "check_row",
    "count_rows",
    "create_job",
    "create_job_from_path",
    "fail_stalled_jobs",
    "open_table",
    "restart_job",
    "run_import",
    "validate_row",
    "work_size",
]
