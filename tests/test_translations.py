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
