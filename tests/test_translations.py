"""The Vietnamese catalogue is complete and compiled, so a fresh clone speaks Vietnamese
without gettext tools on the machine."""

from pathlib import Path

import polib
import pytest

BASE = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(p for p in BASE.glob("**/locale/vi/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def test_there_is_a_catalogue_per_app():
    owners = {p.parts[len(BASE.parts)] for p in CATALOGUES}
    assert {"locale", "accounts", "communes", "dossiers", "postal", "reports"} <= owners


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(BASE)))
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), "run 'make messages' to compile"
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(mo_path))}
    expected = {
        (e.msgctxt, e.msgid): e.msgstr or {int(k): v for k, v in e.msgstr_plural.items()}
        for e in po.translated_entries()
    }
    stale = [key[1] for key, value in expected.items() if compiled.get(key) != value]
    assert not stale, f"the .mo file is older than the .po for: {stale[:5]}"


def test_one_msgid_means_one_thing_across_catalogues():
    """gettext merges every catalogue into one: the same msgid translated two ways in two apps
    silently shows one app's wording on the other's pages. Use a context (pgettext) when the
    meaning differs."""
    seen: dict[tuple, tuple[str, str]] = {}
    clashes = []
    for po_path in CATALOGUES:
        for entry in polib.pofile(str(po_path)).translated_entries():
            if entry.msgid_plural:
                continue
            key = (entry.msgctxt, entry.msgid)
            where = str(po_path.relative_to(BASE))
            if key in seen and seen[key][1] != entry.msgstr:
                clashes.append(
                    f"{entry.msgid!r}: {seen[key][0]} {seen[key][1]!r} vs {where} {entry.msgstr!r}"
                )
            seen.setdefault(key, (where, entry.msgstr))
    assert not clashes, "\n".join(clashes)
