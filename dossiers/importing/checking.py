"""Checking one row of an import file into the fields of a dossier, with messages that name the
column."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from communes import scoping
from communes.models import AdministrativeUnit
from dossiers import calendar, statuses, workdays
from dossiers.codes import parse_code
from dossiers.importing.reading import DATE_FORMATS, DATETIME_FORMATS, RETURN_CHANNELS
from dossiers.models import (
    DeclineReason,
    Dossier,
    IntakeChannel,
    Procedure,
    Status,
)
from dossiers.services import DECLINE_REASONS, Intake, validate_intake

# --- checking one row ------------------------------------------------------------------------


def _text(value) -> str:
    if type(value) is str:  # every cell of a CSV file
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# The common shapes, read without strptime (which costs ~10 µs a try, and most tries fail):
# dd/mm/yyyy[ hh:mm[:ss]] and yyyy-mm-dd[(T| )hh:mm[:ss]]. Anything else goes the slow way.
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def _quick_moment(text: str) -> datetime | None:
    """A local moment (aware) in one of the common shapes, or None. Made aware here, in one
    construction: replacing the zone afterwards cost a row 4 % more instructions."""
    match = _DMY.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
    else:
        match = _YMD.fullmatch(text)
        if not match:
            return None
        year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=workdays.TZ,
        )
    except ValueError:
        return None


def _choice(choices: dict, value):
    """The choice whose integer code the cell holds, or None."""
    try:
        return choices.get(int(_text(value)))
    except ValueError:
        return None


def _parse_moment(value, column: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    else:
        text = _text(value)
        moment = _quick_moment(text)
        for fmt in DATETIME_FORMATS + DATE_FORMATS if moment is None else ():
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(
                _("%(column)s “%(value)s” is not a date as dd/mm/yyyy or dd/mm/yyyy hh:mm.")
                % {"column": column, "value": text[:40]}
            )
    if not 2000 <= moment.year <= 2999:
        # Year 0001 would overflow when converted to UTC; no one-stop dossier is that old.
        raise ValueError(
            _("%(column)s “%(value)s” is not a plausible date (years 2000 to 2999).")
            % {"column": column, "value": _text(value)[:40]}
        )
    if moment.tzinfo is None:  # from a spreadsheet's date cell or strptime: local time
        moment = moment.replace(tzinfo=workdays.TZ)
    return moment


def _parse_day(value, column: str) -> date | None:
    moment = _parse_moment(value, column)
    return moment.astimezone(workdays.TZ).date() if moment else None


def _phone(value) -> str:
    if isinstance(value, (int, float)):  # Excel dropped the leading 0
        return "0" + _text(value) if len(_text(value)) == 9 else _text(value)
    return _text(value)


def _id_number(value) -> str:
    if isinstance(value, (int, float)):  # Excel dropped the leading zeros
        return _text(value).zfill(12)
    return _text(value)


class Catalogue:
    """What rows refer to, loaded once per import."""

    def __init__(self, user):
        self.procedures = {p.national_code: p for p in Procedure.objects.all()}
        communes = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.COMMUNE)
        if user is not None:
            communes = scoping.filter_by_unit(communes, user, field="id")
        self.units: dict[str, AdministrativeUnit] = {}
        for unit in communes.only("id", "code", "identifier", "name", "level", "parent"):
            self.units[unit.code] = unit
            if unit.identifier:
                self.units[unit.identifier] = unit
        self.unit_ids = {unit.pk for unit in self.units.values()}
        self.prefixes = {unit.pk: unit.dossier_prefix for unit in self.units.values()}
        # The calendar as it stands when the import starts, and the due dates computed with it:
        # a due date depends only on the local day, whether the receipt came by the cut-off
        # time and the processing time, and a file holds a few thousand such triples at most.
        # Each unit's province (whose overrides apply), looked up once per unit.
        self._provinces: dict[int, int | None] = {}
        self._overrides: dict[int | None, workdays.Overrides] = {}
        self._due_dates: dict[tuple[int | None, date, bool, int], date] = {}

    def prepare(self) -> None:
        """Read now what ``due_date`` would read on first use (each unit's province, each
        province's overrides), so that checking rows needs no database: a big file is checked
        by a forked helper process too (jobs.py)."""
        self._provinces.update(calendar.provinces_of(unit.pk for unit in self.units.values()))
        for province in set(self._provinces.values()):
            self._overrides[province] = workdays.local_overrides(province)

    def due_date(self, received_at: datetime, processing_days: int, unit: AdministrativeUnit) -> date:
        """workdays.due_date in the unit's province, remembered for the import."""
        if unit.pk not in self._provinces:
            self._provinces[unit.pk] = calendar.province_of(unit)
        province = self._provinces[unit.pk]
        if province not in self._overrides:
            self._overrides[province] = workdays.local_overrides(province)
        local = received_at.astimezone(workdays.TZ)
        key = (province, local.date(), local.time() <= workdays.CUTOFF, processing_days)
        due = self._due_dates.get(key)
        if due is None:
            due = workdays.due_date(received_at, processing_days, overrides=self._overrides[province])
            self._due_dates[key] = due
        return due


# Characters no dossier field may hold: the database refuses NUL in text, and the other
# control characters (tab and line breaks aside) only come from damaged or hostile files.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_row(row: dict, catalogue: Catalogue, *, now: datetime) -> dict:
    """The dossier fields of one row, or ValueError with every problem of the row.

    The one rule set for a dossier coming from outside the desk: the import checks each row of
    a file with it, and anything else that takes a dossier in the file's columns (one row, e.g.
    the API) calls ``validate_row``, which adds the checks against the database.
    """
    problems: list[str] = []
    texts = [value for value in row.values() if isinstance(value, str)]
    if _CONTROL.search("".join(texts)):
        columns = [name for name, value in row.items() if isinstance(value, str) and _CONTROL.search(value)]
        problems.append(
            _("%(columns)s: holds a control character (such as NUL) that no text may contain.")
            % {"columns": ", ".join(sorted(columns))}
        )
    code = _text(row.get("ma_ho_so"))
    try:
        parsed_code = parse_code(code)
    except ValueError:
        parsed_code = None
        problems.append(
            _("ma_ho_so “%(value)s” is not a dossier code like 000.00.00.H00-YYMMDD-0001.")
            % {"value": _CONTROL.sub("?", code[:50])}
        )
    procedure_code = _text(row.get("ma_thu_tuc"))
    procedure = catalogue.procedures.get(procedure_code)
    if procedure is None:
        problems.append(
            _("ma_thu_tuc “%(value)s” is not in the catalogue.")
            % {"value": _CONTROL.sub("?", procedure_code[:40])}
        )
    unit_code = _text(row.get("ma_don_vi"))
    unit = catalogue.units.get(unit_code)
    if unit is None:
        problems.append(
            _("ma_don_vi “%(value)s” is not a commune you may import for.")
            % {"value": _CONTROL.sub("?", unit_code[:40])}
        )
    elif parsed_code is not None and parsed_code.prefix not in (unit.identifier, unit.code):
        # A code names the unit that received the dossier: another unit's numbering would take
        # that unit's codes (and its citizens' lookups) away from it.
        problems.append(
            _("ma_ho_so %(code)s is in the numbering of %(prefix)s, not of %(unit)s (%(identifier)s).")
            % {
                "code": code,
                "prefix": parsed_code.prefix,
                "unit": unit_code,
                "identifier": unit.dossier_prefix,
            }
        )
    status = _choice(STATUSES, row.get("trang_thai"))
    if status is None:
        problems.append(_("trang_thai must be a status code from 1 to 10."))
    intake_channel = _choice(INTAKE_CHANNELS, row.get("kenh_tiep_nhan"))
    if intake_channel is None:
        problems.append(_("kenh_tiep_nhan must be 1 (in person), 2 (online) or 3 (BCCI)."))
    return_channel = RETURN_CHANNELS.get(_text(row.get("hinh_thuc_tra_ket_qua")).lower())
    if return_channel is None:
        problems.append(_("hinh_thuc_tra_ket_qua must be tai_quay, truc_tuyen or bcci."))
    moments, unreadable = {}, set()
    for column in ("ngay_tiep_nhan", "ngay_ket_thuc_xu_ly", "ngay_tra_ket_qua"):
        try:
            moments[column] = _parse_moment(row.get(column), column)
        except ValueError as exc:
            problems.append(str(exc))
            moments[column] = None
            unreadable.add(column)
    try:
        due = _parse_day(row.get("ngay_hen_tra"), "ngay_hen_tra")
    except ValueError as exc:
        problems.append(str(exc))
        due = None
    received, finished, returned = (
        moments["ngay_tiep_nhan"],
        moments["ngay_ket_thuc_xu_ly"],
        moments["ngay_tra_ket_qua"],
    )
    decline_reason = _text(row.get("ly_do_khong_nhan_qua_bcci")).lower()
    if decline_reason and decline_reason not in DECLINE_REASONS:
        problems.append(
            _("ly_do_khong_nhan_qua_bcci “%(value)s” is not one of: %(codes)s.")
            % {"value": decline_reason[:30], "codes": ", ".join(DeclineReason.values)}
        )
        decline_reason = DeclineReason.OTHER

    if status is not None:
        if status == Status.REGISTERED and received is not None:
            problems.append(_("ngay_tiep_nhan must be empty for a newly registered dossier (status 1)."))
        if status != Status.REGISTERED and received is None and "ngay_tiep_nhan" not in unreadable:
            problems.append(_("ngay_tiep_nhan is required for status %(status)d.") % {"status": status})
        if status in (Status.REFUSED, Status.STOPPED, Status.FINISHED) and finished is None:
            problems.append(_("ngay_ket_thuc_xu_ly is required for status %(status)d.") % {"status": status})
        if status == Status.RETURNED and returned is None:
            problems.append(_("ngay_tra_ket_qua is required for status 10."))
    for column, moment in (("ngay_ket_thuc_xu_ly", finished), ("ngay_tra_ket_qua", returned)):
        if moment is not None and moment > now:
            problems.append(_("%(column)s is in the future.") % {"column": column})
        if moment is not None and received is not None and moment < received:
            problems.append(_("%(column)s is before ngay_tiep_nhan.") % {"column": column})
    if due is not None and received is not None and due < workdays.local_date(received):
        problems.append(_("ngay_hen_tra is before ngay_tiep_nhan."))

    intake = None
    if intake_channel is not None and return_channel is not None:
        try:
            intake = validate_intake(
                Intake(
                    procedure=procedure,
                    applicant_name=_text(row.get("ho_ten_nguoi_nop")),
                    applicant_phone=_phone(row.get("so_dien_thoai")),
                    applicant_address=_text(row.get("dia_chi")),
                    applicant_id_number=_id_number(row.get("so_dinh_danh")),
                    intake_channel=intake_channel,
                    return_channel=return_channel,
                    decline_reason=decline_reason,
                    decline_note=_text(row.get("ghi_chu_ly_do")),
                    received_at=received or now,
                ),
                now=now,
            )
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                if field_name == "procedure" and procedure is None:
                    continue
                column = _FIELD_COLUMNS.get(field_name, field_name)
                problems.extend(f"{column}: {message}" for message in messages)
    if problems:
        # Messages quote the cells: a control character quoted would not even be storable.
        raise ValueError(_CONTROL.sub("?", " ".join(dict.fromkeys(problems))))

    received_at = received if status != Status.REGISTERED else None
    if received_at is not None and due is None:
        due = catalogue.due_date(received_at, procedure.processing_days, unit)
    ended = finished or (returned if status == Status.RETURNED else None)
    timeliness = ""
    if status in (Status.REFUSED, Status.STOPPED, Status.FINISHED, Status.RETURNED) and ended and due:
        timeliness = workdays.timeliness(workdays.local_date(ended), due)
    return {
        "code": code,
        "procedure_id": procedure.pk,
        "receiving_unit_id": unit.pk,
        "applicant_name": intake.applicant_name,
        "applicant_phone": intake.applicant_phone,
        "applicant_address": intake.applicant_address,
        "applicant_id_number": intake.applicant_id_number,
        "intake_channel": intake.intake_channel,
        "return_channel": intake.return_channel,
        "decline_reason": intake.decline_reason,
        "decline_note": intake.decline_note,
        "status": int(status),
        "received_at": received_at,
        "due_date": due,
        "finished_at": ended if status in statuses.ENDED else None,
        "returned_at": returned if status == Status.RETURNED else None,
        "timeliness": timeliness,
    }


# Integer codes to choices, looked up instead of calling the enum (a slow constructor).
STATUSES = {int(choice): choice for choice in Status}
INTAKE_CHANNELS = {int(choice): choice for choice in IntakeChannel}

_FIELD_COLUMNS = {
    "applicant_name": "ho_ten_nguoi_nop",
    "applicant_phone": "so_dien_thoai",
    "applicant_address": "dia_chi",
    "applicant_id_number": "so_dinh_danh",
    "intake_channel": "kenh_tiep_nhan",
    "return_channel": "hinh_thuc_tra_ket_qua",
    "decline_reason": "ly_do_khong_nhan_qua_bcci",
    "decline_note": "ghi_chu_ly_do",
    "received_at": "ngay_tiep_nhan",
    "procedure": "ma_thu_tuc",
}


def _owners(codes: list[str]) -> dict[str, int]:
    """The receiving unit of each code that already belongs to a dossier."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of thousands (quoted one by one).
        table = connection.ops.quote_name(Dossier._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, receiving_unit_id FROM {table} WHERE code = ANY(%s)", [codes])  # noqa: S608
            return dict(cursor.fetchall())
    return dict(Dossier.objects.filter(code__in=codes).values_list("code", "receiving_unit_id"))


def repeated_message(code: str) -> str:
    return _("ma_ho_so %(code)s appears twice in the file.") % {"code": code}


def taken_message(code: str) -> str:
    return _("ma_ho_so %(code)s already belongs to a dossier of another unit.") % {"code": code}


def validate_row(row: dict, *, user, now: datetime | None = None, catalogue: Catalogue | None = None) -> dict:
    """One dossier in the import's columns, checked as the import checks a row of a file: the
    dossier fields, or ValueError with every problem (in Vietnamese). For a single dossier
    coming from outside the desk (the API); ``user`` limits the units as for an import
    (``None``: every commune)."""
    now = now or timezone.now()
    fields = check_row(row, catalogue or Catalogue(user), now=now)
    owner = _owners([fields["code"]]).get(fields["code"])
    if owner is not None and owner != fields["receiving_unit_id"]:
        raise ValueError(taken_message(fields["code"]))
    return fields
