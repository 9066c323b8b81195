"""The dossier list as a workbook people open in Excel: Vietnamese headings, statuses and
channels in words, dates as real date cells (sortable, filterable), phones and identity
numbers masked. The machine layout of docs/import-format.md stays the CSV export and the
import template."""

from __future__ import annotations

import tempfile
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.spreadsheets import safe_cell
from dossiers.models import DeclineReason, IntakeChannel, ReturnChannel, Timeliness
from dossiers.personal import mask_id_number, mask_phone
from dossiers.statuses import Status

DATE_FORMAT = "DD/MM/YYYY"
MOMENT_FORMAT = "DD/MM/YYYY HH:MM"


def _columns() -> list[tuple[str, int]]:
    """(heading, width in characters), in the active language."""
    return [
        (_("Dossier code"), 27),
        (_("Procedure code"), 12),
        (_("Procedure"), 45),
        (_("Receiving unit"), 22),
        (_("Applicant"), 26),
        (_("Phone (masked)"), 14),
        (_("Identity number (masked)"), 16),
        (_("Intake channel"), 16),
        (_("Return of the result"), 18),
        (_("Reason for declining postal return"), 30),
        (_("Status"), 22),
        (_("Received at"), 17),
        (_("Due date"), 12),
        (_("Processing ended at"), 17),
        (_("Result returned at"), 17),
        (_("Timeliness"), 12),
    ]


def _local(value: datetime | None):
    """Excel has no time zones: the local wall-clock time, as the desk saw it."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def write_list(qs) -> tempfile.SpooledTemporaryFile:
    """The workbook of ``qs`` (already scoped and filtered), streamed row by row."""
    statuses = {value: str(label) for value, label in Status.choices}
    intakes = {value: str(label) for value, label in IntakeChannel.choices}
    returns = {value: str(label) for value, label in ReturnChannel.choices}
    reasons = {value: str(label) for value, label in DeclineReason.choices}
    timeliness = {value: str(label) for value, label in Timeliness.choices}

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Dossiers"))
    columns = _columns()
    for index, (_heading, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="0A4FB3")
    header = []
    for heading, _width in columns:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(wrap_text=True, vertical="center")
        header.append(cell)
    sheet.append(header)

    def dated(value, number_format):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = number_format
        return cell

    rows = 0
    for dossier in qs.iterator(chunk_size=2000):
        sheet.append(
            [
                safe_cell(dossier.code, sheet=sheet),
                safe_cell(dossier.procedure.national_code, sheet=sheet),
                safe_cell(dossier.procedure.name, sheet=sheet),
                safe_cell(dossier.receiving_unit.name, sheet=sheet),
                safe_cell(dossier.applicant_name, sheet=sheet),
                mask_phone(dossier.applicant_phone),
                mask_id_number(dossier.applicant_id_number),
                intakes.get(dossier.intake_channel, ""),
                returns.get(dossier.return_channel, ""),
                reasons.get(dossier.decline_reason, ""),
                statuses.get(dossier.status, ""),
                dated(_local(dossier.received_at), MOMENT_FORMAT),
                dated(dossier.due_date, DATE_FORMAT),
                dated(_local(dossier.finished_at), MOMENT_FORMAT),
                dated(_local(dossier.returned_at), MOMENT_FORMAT),
                timeliness.get(dossier.timeliness, ""),
            ]
        )
        rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows + 1}"
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    workbook.save(spool)
    spool.seek(0)
    return spool
