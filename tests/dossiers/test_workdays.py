"""The working-day calendar, table by table (weekday in a comment)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from communes.models import AdministrativeUnit
from dossiers import calendar, workdays
from dossiers.models import CalendarOverride
from dossiers.workdays import (
    add_working_days,
    due_date,
    is_working_day,
    timeliness,
    working_days_between,
)

from .conftest import at


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 13), True),  # Fri before Tết
        (date(2026, 2, 14), False),  # Sat
        (date(2026, 2, 16), False),  # Mon, Tết eve (30 Tết)
        (date(2026, 2, 17), False),  # Tue, mùng 1 Tết
        (date(2026, 2, 20), False),  # Fri, mùng 4 Tết
        (date(2026, 2, 23), True),  # Mon after Tết
        (date(2027, 2, 4), False),  # Thu, 29 Tết 2027
        (date(2027, 2, 10), False),  # Wed, mùng 5 Tết 2027
        (date(2027, 2, 11), True),  # Thu, back to work
        (date(2026, 4, 30), False),  # Thu, Reunification Day
        (date(2026, 5, 1), False),  # Fri, Labour Day
        (date(2027, 5, 3), False),  # Mon, Labour Day observed (1/5/2027 is a Saturday)
        (date(2026, 9, 2), False),  # Wed, National Day
        (date(2026, 9, 1), False),  # Tue, National Day (second day)
        (date(2026, 8, 31), False),  # Mon, swapped day off…
        (date(2026, 8, 22), True),  # Sat, …made up on this Saturday
        (date(2025, 4, 26), True),  # Sat, make-up for Fri 2/5/2025
        (date(2025, 5, 2), False),  # Fri, swapped day off
        (date(2026, 3, 4), True),  # Wed, an ordinary day
        (date(2026, 3, 8), False),  # Sun
    ],
)
def test_national_calendar(day, expected):
    assert is_working_day(day, overrides={}) is expected


@pytest.mark.parametrize(
    ("received_at", "days", "expected"),
    [
        (at(2026, 3, 4, 9), 3, date(2026, 3, 9)),  # Wed morning + 3 → Mon
        (at(2026, 3, 4, 14, 59), 3, date(2026, 3, 9)),  # Wed just before the cut-off
        (at(2026, 3, 4, 15, 0), 3, date(2026, 3, 9)),  # Wed at 15:00 sharp still counts
        (at(2026, 3, 4, 15, 1), 3, date(2026, 3, 10)),  # Wed after 15:00 → counts from Thu → Tue
        (at(2026, 2, 13, 9), 1, date(2026, 2, 23)),  # Fri before Tết + 1 → Mon after Tết
        (at(2026, 2, 13, 16), 1, date(2026, 2, 24)),  # Fri after 15:00 → counts from Mon 23 → Tue
        (at(2026, 2, 12, 10), 2, date(2026, 2, 23)),  # Thu + 2 → Fri 13, Mon 23
        (at(2026, 2, 17, 10), 0, date(2026, 2, 23)),  # received on mùng 1 Tết, same-day → Mon 23
        (at(2026, 3, 4, 10), 0, date(2026, 3, 4)),  # same-day procedure before the cut-off
        (at(2026, 3, 4, 16), 0, date(2026, 3, 5)),  # same-day procedure after the cut-off → Thu
        (at(2026, 3, 7, 10), 0, date(2026, 3, 9)),  # Saturday → Mon
        (at(2027, 2, 3, 9), 2, date(2027, 2, 12)),  # Wed before Tết 2027 + 2 → Thu 11, Fri 12
        (at(2026, 4, 29, 11), 1, date(2026, 5, 4)),  # Wed + 1 over 30/4–1/5 → Mon 4/5
        (at(2027, 4, 29, 9), 2, date(2027, 5, 5)),  # Thu 29/4/2027 + 2: Fri 30/4, Mon 3/5 off → Tue, Wed
        (at(2026, 8, 28, 9), 1, date(2026, 9, 3)),  # Fri + 1 over 31/8–2/9 → Thu 3/9
        (at(2026, 8, 21, 9), 1, date(2026, 8, 22)),  # Fri + 1 → the make-up Saturday
        (at(2026, 12, 31, 14), 1, date(2027, 1, 4)),  # Thu + 1 over New Year → Mon
    ],
)
def test_due_date(received_at, days, expected):
    assert due_date(received_at, days, overrides={}) == expected


def test_due_date_uses_local_time_for_the_cut_off():
    # 08:30 UTC is 15:30 in Hà Nội: after the cut-off although it is morning in UTC.
    received = datetime(2026, 3, 4, 8, 30, tzinfo=ZoneInfo("UTC"))
    assert due_date(received, 0, overrides={}) == date(2026, 3, 5)


def test_due_date_needs_an_aware_datetime():
    with pytest.raises(ValueError):
        due_date(datetime(2026, 3, 4, 9), 1, overrides={})


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 4), 0, date(2026, 3, 4)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Fri + 1 → Mon
        (date(2026, 2, 13), 1, date(2026, 2, 23)),
        (date(2026, 3, 2), 10, date(2026, 3, 16)),
    ],
)
def test_add_working_days(day, n, expected):
    assert add_working_days(day, n, overrides={}) == expected
    assert working_days_between(day, expected, overrides={}) == n


def test_working_days_between_is_antisymmetric():
    assert working_days_between(date(2026, 2, 23), date(2026, 2, 13), overrides={}) == -1


@pytest.mark.parametrize(
    ("finished", "due", "expected"),
    [
        (date(2026, 3, 8), date(2026, 3, 9), "early"),
        (date(2026, 3, 9), date(2026, 3, 9), "on_time"),
        (date(2026, 3, 10), date(2026, 3, 9), "late"),
    ],
)
def test_timeliness(finished, due, expected):
    assert timeliness(finished, due) == expected


def test_local_overrides_add_a_day_off_and_a_make_up_saturday(db):
    assert is_working_day(date(2026, 3, 4))
    CalendarOverride.objects.create(date=date(2026, 3, 4), kind="day_off", reason="Bão số 3")
    CalendarOverride.objects.create(date=date(2026, 3, 7), kind="working_day", reason="Làm bù")
    assert not is_working_day(date(2026, 3, 4))
    assert is_working_day(date(2026, 3, 7))
    # Tue 3/3 + 2: Wed 4 off, Thu 5, Fri 6 → due Fri 6; + 3 → the make-up Sat 7.
    assert due_date(at(2026, 3, 3, 9), 2) == date(2026, 3, 6)
    assert due_date(at(2026, 3, 3, 9), 3) == date(2026, 3, 7)


def test_deleting_an_override_restores_the_national_calendar(db):
    row = CalendarOverride.objects.create(date=date(2026, 3, 4), kind="day_off", reason="Bão")
    assert not is_working_day(date(2026, 3, 4))
    row.delete()
    assert is_working_day(date(2026, 3, 4))


def test_overrides_are_cached_between_calls(db, django_assert_num_queries):
    CalendarOverride.objects.create(date=date(2026, 3, 4), kind="day_off", reason="Bão")
    workdays.local_overrides()
    with django_assert_num_queries(0):
        for _ in range(3):
            due_date(at(2026, 3, 2, 9), 5)


@pytest.fixture
def other_province(db):
    return AdministrativeUnit.objects.create(
        code="46", name="Huế", level=AdministrativeUnit.Level.PROVINCE, kind=AdministrativeUnit.Kind.CITY
    )


def test_a_make_up_saturday_of_one_province_does_not_apply_in_another(province, other_province, commune):
    # Sat 7/3/2026 is a make-up working day in Quảng Trị only; Wed 4/3 a storm day off nationwide.
    CalendarOverride.objects.create(
        date=date(2026, 3, 7), kind="working_day", reason="Làm bù", province=province
    )
    CalendarOverride.objects.create(date=date(2026, 3, 4), kind="day_off", reason="Bão số 3")
    assert calendar.province_of(commune) == province.pk  # commune → district grouping → province
    # Many units at once (an import): a commune, its district grouping, a province itself.
    assert calendar.provinces_of([commune.pk, commune.parent_id, other_province.pk]) == {
        commune.pk: province.pk,
        commune.parent_id: province.pk,
        other_province.pk: other_province.pk,
    }
    assert is_working_day(date(2026, 3, 7), province=province.pk)
    assert not is_working_day(date(2026, 3, 7), province=other_province.pk)
    assert not is_working_day(date(2026, 3, 7))
    # The nationwide day off applies in both provinces.
    assert not is_working_day(date(2026, 3, 4), province=province.pk)
    assert not is_working_day(date(2026, 3, 4), province=other_province.pk)
    # Tue 3/3 + 3 working days: Thu 5, Fri 6, then Sat 7 in Quảng Trị, Mon 9 elsewhere.
    assert due_date(at(2026, 3, 3, 9), 3, province=province.pk) == date(2026, 3, 7)
    assert due_date(at(2026, 3, 3, 9), 3, province=other_province.pk) == date(2026, 3, 9)
    assert due_date(at(2026, 3, 3, 9), 3) == date(2026, 3, 9)


def test_a_province_override_wins_over_a_nationwide_one_on_the_same_day(province, other_province):
    CalendarOverride.objects.create(date=date(2026, 3, 4), kind="day_off", reason="Bão số 3")
    CalendarOverride.objects.create(
        date=date(2026, 3, 4), kind="working_day", reason="Làm bù", province=province
    )
    assert is_working_day(date(2026, 3, 4), province=province.pk)
    assert not is_working_day(date(2026, 3, 4), province=other_province.pk)


def test_a_dossier_of_a_commune_gets_its_provinces_due_date(log_dossier, province, other_province):
    CalendarOverride.objects.create(
        date=date(2026, 3, 7), kind="working_day", reason="Làm bù", province=other_province
    )
    # Another province's make-up Saturday changes nothing for this commune's dossier.
    dossier = log_dossier(received_at=at(2026, 3, 3, 9))
    assert dossier.due_date == due_date(at(2026, 3, 3, 9), dossier.procedure.processing_days)
    CalendarOverride.objects.create(
        date=date(2026, 3, 7), kind="working_day", reason="Làm bù", province=province
    )
    dossier = log_dossier(received_at=at(2026, 3, 5, 9))
    # Procedure of the fixture: processing days from the catalogue, counted with Sat 7/3 as working.
    assert dossier.due_date == due_date(
        at(2026, 3, 5, 9), dossier.procedure.processing_days, province=province.pk
    )
    assert dossier.due_date != due_date(at(2026, 3, 5, 9), dossier.procedure.processing_days)
