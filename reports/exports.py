"""The weekly report and the year-to-date table, as XLSX and CSV, in the layout a district sends
upward: one line per commune and a total line, counts, then each rate with its target and gap."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.spreadsheets import looks_like_formula, safe_cell
from reports.models import Metric
from reports.rates import DASH, RATES
from reports.selectors import UnitRow

COUNT_COLUMNS = (
    ("received", gettext_lazy("Received")),
    ("received_bcci", gettext_lazy("Received by BCCI")),
    ("received_online", gettext_lazy("Received online")),
    ("returned", gettext_lazy("Results returned")),
    ("returned_bcci", gettext_lazy("Returned by BCCI")),
    ("finished", gettext_lazy("Finished")),
    ("finished_early", gettext_lazy("Early")),
    ("finished_on_time", gettext_lazy("On time")),
    ("finished_late", gettext_lazy("Late")),
    ("open_overdue", gettext_lazy("Open and overdue at the period's end")),
    ("items_delivered", gettext_lazy("Items delivered")),
    ("items_on_target", gettext_lazy("Delivered within J+n")),
    ("items_returned_to_sender", gettext_lazy("Returned to the agency")),
    ("declined_in_person", gettext_lazy("Declined: collect in person")),
    ("declined_worried_papers", gettext_lazy("Declined: worried about papers")),
    ("declined_fee", gettext_lazy("Declined: postage fee")),
    ("declined_unaware", gettext_lazy("Declined: did not know")),
    ("declined_urgent", gettext_lazy("Declined: urgent")),
    ("declined_other", gettext_lazy("Declined: other")),
    ("declined_unrecorded", gettext_lazy("Declined: not recorded")),
)


@dataclass
class Report:
    kind: str  # "weekly" or "ytd"
    unit_name: str
    first_week: date
    last_week: date
    computed_at: datetime | None
    lines: list[UnitRow]  # communes
    total: UnitRow  # the unit itself

    @property
    def title(self) -> str:
        if self.kind == "weekly":
            return _("Weekly report on dossiers received and results returned by public postal service")
        return _("Year-to-date report on dossiers received and results returned by public postal service")

    @property
    def period(self) -> str:
        last_day = self.last_week + timedelta(days=6)
        if self.kind == "weekly":
            year, week, _weekday = self.first_week.isocalendar()
            return _("Week %(week)s/%(year)s (%(start)s – %(end)s)") % {
                "week": week,
                "year": year,
                "start": date_format(self.first_week, "SHORT_DATE_FORMAT"),
                "end": date_format(last_day, "SHORT_DATE_FORMAT"),
            }
        return _("From %(start)s to %(end)s") % {
            "start": date_format(self.first_week, "SHORT_DATE_FORMAT"),
            "end": date_format(last_day, "SHORT_DATE_FORMAT"),
        }

    @property
    def computed(self) -> str:
        if self.computed_at is None:
            return _("Figures not computed yet")
        local = timezone.localtime(self.computed_at)
        return _("Figures computed at %(at)s") % {"at": date_format(local, "SHORT_DATETIME_FORMAT")}

    def headers(self) -> list[str]:
        names = [_("No."), _("Unit")] + [str(label) for _field, label in COUNT_COLUMNS]
        for definition in RATES:
            label = str(Metric(definition.metric).label)
            names += [f"{label} (%)", _("Target (%)"), _("Gap (points)")]
        return names

    def _values(self, row: UnitRow) -> list:
        values: list = [row.counts[name] for name, _label in COUNT_COLUMNS]
        for figure in row.figures:
            values += [figure.value, figure.target, figure.gap]
        return values

    def body(self) -> list[list]:
        lines = [[number, line.unit.name, *self._values(line)] for number, line in enumerate(self.lines, 1)]
        lines.append(["", _("Total: %(unit)s") % {"unit": self.total.unit.name}, *self._values(self.total)])
        return lines


def _csv_cell(value) -> str:
    if value is None:
        return DASH
    if isinstance(value, Decimal):
        return f"{value:.1f}"
    return safe_cell(str(value)) if isinstance(value, str) else str(value)


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(report.title)])
    writer.writerow([_("Unit"), safe_cell(report.unit_name)])
    writer.writerow([_("Period"), report.period])
    writer.writerow([report.computed])
    writer.writerow(report.headers())
    for line in report.body():
        writer.writerow([_csv_cell(value) for value in line])
    # A byte-order mark so spreadsheet programs read the Vietnamese letters as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


HEADER_ROW = 6


def to_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Weekly") if report.kind == "weekly" else _("Year to date")
    headers = report.headers()
    sheet["A1"] = report.title.upper()
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = f"{_('Unit')}: {report.unit_name}"
    sheet["A3"] = f"{_('Period')}: {report.period}"
    sheet["A4"] = report.computed
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, name in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.border = border
        sheet.column_dimensions[get_column_letter(column)].width = 28 if column == 2 else 12
    sheet.row_dimensions[HEADER_ROW].height = 60
    first_rate_column = 3 + len(COUNT_COLUMNS)
    body = report.body()
    for offset, line in enumerate(body, start=1):
        row = HEADER_ROW + offset
        for column, value in enumerate(line, start=1):
            cell = sheet.cell(row=row, column=column)
            cell.border = border
            if column >= first_rate_column:
                is_gap = (column - first_rate_column) % 3 == 2
                if value is None:
                    cell.value = DASH
                    cell.alignment = Alignment(horizontal="right")
                elif is_gap:
                    cell.value = float(value)
                    cell.number_format = "+0.0;-0.0;0.0"
                else:
                    cell.value = float(value) / 100
                    cell.number_format = "0.0%"
            else:
                cell.value = value
                if looks_like_formula(value):
                    cell.data_type = "s"  # a unit name typed as "=…" stays text
            if offset == len(body):
                cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=3)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
