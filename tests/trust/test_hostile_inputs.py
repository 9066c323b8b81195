"""Every URL × every parameter × hostile values: no server error and no partial write.

The URL patterns are enumerated from the resolver, so pages other teams add are covered after a
merge. For each URL and each role that may use it (from the access matrix), the parameters sent
are the ones the view reads:

- the fields of every HTML form that targets the URL, found on any page of the application
  (a POST-only URL's form lives on another page: the item card posts to ``item_move``);
- every ``request.GET`` / ``request.POST`` key named in the view's module;
- ``EXTRA_FIELDS`` below, for a view that reads its input some other way.

The first role that may use a URL sends the whole ``HOSTILE`` catalogue in all parameters at
once, then each parameter on its own (``ANY_FIELD``, plus ``DATE_FIELD`` for dates) with the others
at the form's own values; every other role sends a sample at once. Uploads get bytes that are
not UTF-8.
A request must answer below 500 (the test client re-raises what a view lets escape); a POST that
does not succeed (no redirect) must leave every table's row count as it was.
"""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import Resolver404, resolve, reverse

from tests.test_access_matrix import ACCESS, ANON, ROLES, URL_NAMES

pytestmark = pytest.mark.django_db

HOSTILE = [  # the whole catalogue: every role sends each value in all parameters at once
    "\x00",
    "x" * 100_000,
    str(2**31),
    str(2**63),
    "-1",
    str(-(2**31) - 1),
    "0001-01-01",
    "01/01/0001",
    "01/01/0001 00:00",
    "9999-12-31",
    "31/12/9999 23:59",
    "2026-02-30",
    "30/02/2026",
    "0001-W01",
    "9999-W52",
    "²",
    "١٢٣",
    "\uff11\uff12\uff13",  # full-width digits
    "\u202e\u202d\u2066",  # direction overrides only
    "\u200b",  # a zero-width space
]
# Each parameter on its own (the others at the form's values) gets these …
ANY_FIELD = ["\x00", "x" * 100_000, str(2**31), str(2**63), "-1", "²", "\u202e\u202d\u2066"]
# … and, when its name says it holds a date, a time or a week, these.
DATE_FIELD = [
    "0001-01-01", "01/01/0001", "01/01/0001 00:00", "9999-12-31", "31/12/9999 23:59",
    "2026-02-30", "30/02/2026", "0001-W01", "١٢/٠١/٢٠٢٦",
]  # fmt: skip
# The other roles that may use a URL send these in all parameters at once.
OTHER_ROLES = ["x" * 100_000, str(2**63), "01/01/0001 00:00", "²", "\u202e\u202d\u2066"]
_DATE_NAME = re.compile(r"date|day|_at$|_from$|_to$|slot|week|start|end", re.IGNORECASE)
NOT_UTF8 = b"ma_ho_so,ho_ten\r\n\xff\xfe\xfa\xc3\x28,\xed\xa0\x80\r\n"
# Inputs a view reads without a form on any page or a literal request.GET/POST key in its
# module: name them here (URL name → field names).
EXTRA_FIELDS: dict[str, list[str]] = {
    # Starts a failed import again: no input but the job in its URL.
    "dossiers:import_restart": [],
}
# Tables whose rows record the request itself, written whatever it asks: a failed login
# (django-axes), a lookup counted against its limit, a recorded "show", a session.
RECORDS_OF_THE_REQUEST = {"axes", "sessions"}
RECORD_MODELS = {"dossiers.lookupwindow", "privacy.personaldataaccess"}
# URLs left out, with the reason.
SKIPPED = {
    "accounts:logout": "ends the session the test is using; it reads no input",
    "set_language": "Django's own view; answers any language code with a redirect",
    # The API reads JSON with a client's token and refuses a session's form post before reading
    # it; its hostile JSON bodies are in tests/api/test_hostile_bodies.py.
    "api:dossier_batch": "JSON API with tokens: tests/api/test_hostile_bodies.py",
    "api:item_events": "JSON API with tokens: tests/api/test_hostile_bodies.py",
}

_KEY = re.compile(
    r"""request\.(?:GET|POST)(?:\.get|\.getlist|\.pop)?[\(\[]\s*["']([\w-]+)["']"""
    r"""|["']([\w-]+)["']\s+(?:not\s+)?in\s+request\.(?:GET|POST)"""
)


class _Forms(HTMLParser):
    """The forms of a page: action, method, and each field's name, type and default value."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            )
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                if name not in fields:
                    fields[name] = ("submit", a.get("value") or "")
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = (kind, a.get("value") or "on" if "checked" in a else "")
                return
            fields[name] = (kind, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, ("select", ""))
        elif tag == "option" and self._select:
            current = fields[self._select]
            value = a.get("value") or ""
            if "selected" in a or (not current[1] and value):
                fields[self._select] = ("select", value)
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ("textarea", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] = ("textarea", data.strip())


def _login(client, world, role):
    client.logout()
    if role != ANON:
        client.force_login(world["users"][role])


def _url_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def _discover_forms(world, client) -> dict[tuple[str, str], dict]:
    """(URL name, method) → {field: (type, default)} from every page every role can open."""
    found: dict[tuple[str, str], dict] = {}
    for name in URL_NAMES:
        if name in SKIPPED or name.endswith("_pdf"):
            continue
        access = ACCESS[name]
        url = reverse(name, args=access.args(world))
        # Roles see the same forms, fewer or more fields: the first and the last that may open
        # the page (the desk or the post, and the administrator) between them show every one.
        roles = [role for role in ROLES if access.expect.get(role) == 200]
        for role in {*roles[:1], *roles[-1:]}:
            _login(client, world, role)
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode("utf-8", "replace"))
            for form in parser.forms:
                target = _url_name(form["action"] or url)
                if target:
                    found.setdefault((target, form["method"]), {}).update(form["fields"])
    return found


def _source_keys(name: str, world) -> set[str]:
    access = ACCESS[name]
    match = resolve(reverse(name, args=access.args(world)))
    view = getattr(match.func, "view_class", None) or inspect.unwrap(match.func)
    module = inspect.getmodule(view)
    source = inspect.getsource(module)
    return {a or b for a, b in _KEY.findall(source)}


def _row_counts() -> tuple:
    tables = [
        m._meta.db_table
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and m._meta.app_label not in RECORDS_OF_THE_REQUEST
        and m._meta.label_lower not in RECORD_MODELS
    ]
    # Table names come from the models, not from input.
    counts = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return cursor.fetchone()


@pytest.fixture(scope="module")
def discovered():
    return {}


def _roles_for(access) -> list[str]:
    """The roles that may use the URL: 200 on GET, or 405 on GET and not refused on POST."""
    return [
        r
        for r in ROLES
        if access.expect.get(r) == 200 or (access.expect.get(r) == 405 and r not in access.post)
    ]


def _payloads(fields: dict, keys: set[str], uploads: set[str]):
    """(label, data) pairs: each field hostile in turn, the others at the form's values."""
    defaults = {k: v for k, (kind, v) in fields.items() if kind not in ("submit", "file")}
    names = sorted((set(fields) | keys) - uploads)
    for name in names:
        for value in ANY_FIELD + (DATE_FIELD if _DATE_NAME.search(name) else []):
            yield f"{name}={value[:20]!r}", {**defaults, name: value}
    for upload in sorted(uploads):
        not_utf8 = SimpleUploadedFile("tep.csv", NOT_UTF8, "text/csv")
        yield f"{upload}=<not UTF-8>", {**defaults, upload: not_utf8}
        yield f"{upload}=<not XLSX>", {**defaults, upload: SimpleUploadedFile("tep.xlsx", NOT_UTF8)}


def _all_at_once(fields: dict, keys: set[str], uploads: set[str], values=HOSTILE):
    names = sorted((set(fields) | keys) - uploads)
    for value in values:
        yield f"all={value[:20]!r}", dict.fromkeys(names, value)


@pytest.fixture
def full_world(world):
    """The access matrix's objects, filled in so that every form shows: the "show" buttons need
    a phone to show, the appointment list shows today's appointments."""
    from datetime import timedelta

    from django.utils import timezone

    from postal.models import PostalItem

    PostalItem.objects.filter(pk=world["item"].pk).update(recipient_phone="0987000111")
    soon = timezone.now() + timedelta(minutes=30)
    world["appointment"].slot_start, world["appointment"].slot_end = soon, soon + timedelta(hours=1)
    world["appointment"].save()
    return world


@pytest.mark.parametrize("url_name", [n for n in URL_NAMES if n not in SKIPPED])
def test_hostile_values_get_no_server_error_and_no_partial_write(url_name, full_world, client, discovered):
    world = full_world
    assert url_name in ACCESS, (
        f"{url_name} has no entry in ACCESS (tests/test_access_matrix.py): add its arguments and "
        "the answer each role gets, so this test knows how to call it"
    )
    if not discovered:
        discovered.update(_discover_forms(world, client))
    access = ACCESS[url_name]
    url = reverse(url_name, args=access.args(world))
    keys = _source_keys(url_name, world) | set(EXTRA_FIELDS.get(url_name, []))
    roles = _roles_for(access)
    post_only = all(access.expect.get(r) in (405, 302) for r in ROLES if r != ANON) and bool(access.post)
    get_fields = discovered.get((url_name, "get"), {})
    post_fields = discovered.get((url_name, "post"), {})
    if post_only:
        assert (url_name, "post") in discovered or keys or url_name in EXTRA_FIELDS, (
            f"{url_name} takes POST only, but no page has a form posting to it and its view module "
            "reads no literal request.POST key: list its fields in EXTRA_FIELDS in " + __file__
        )
    failures = []
    logged_in = []

    def send(role, method, label, data):
        if logged_in[-1:] != [role]:
            _login(client, world, role)
            logged_in.append(role)
        before = _row_counts() if method == "post" else None
        try:
            with transaction.atomic():
                response = getattr(client, method)(url, data)
        except Exception as error:  # the test client re-raises what the view let escape
            failures.append(
                f"{method.upper()} {url} as {role}, {label}: {type(error).__name__}: {error}"[:300]
            )
            return
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} as {role}, {label}: {response.status_code}")
        elif method == "post" and response.status_code not in (301, 302, 303) and _row_counts() != before:
            failures.append(f"POST {url} as {role}, {label}: refused ({response.status_code}), rows changed")

    uploads = {k for k, (kind, _v) in post_fields.items() if kind == "file"}
    for index, role in enumerate(roles):
        methods = []
        if access.expect.get(role) == 200:
            methods.append(("get", get_fields, set()))
        if post_fields or post_only or (access.expect.get(role) == 200 and keys):
            methods.append(("post", post_fields, uploads))
        for method, fields, method_uploads in methods:
            # The first role that may use the URL: all parameters hostile at once, the whole
            # catalogue, then each parameter on its own; every other role: a sample at once.
            values = HOSTILE if index == 0 else OTHER_ROLES
            for label, data in _all_at_once(fields, keys, method_uploads, values):
                send(role, method, label, data)
            if index > 0:
                continue
            # A file (PDF, CSV, XLSX) reads the parameters of its page, which get their own
            # pass there: here only the fields of a form that targets the file itself.
            is_file = method == "get" and "html" not in client.get(url).get("Content-Type", "html")
            for label, data in _payloads(fields, set() if is_file else keys, method_uploads):
                send(role, method, label, data)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
