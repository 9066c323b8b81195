"""Headers that protect every page, and templates that keep the CSP meaningful."""

import re
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    p for p in BASE.glob("**/templates/**/*.html") if ".venv" not in p.parts and "vendor" not in p.parts
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""href\s*=\s*["']\s*javascript:""", re.IGNORECASE)


@pytest.mark.django_db
def test_pages_carry_csp_without_inline_scripts(client):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=(self)" in response.headers["Permissions-Policy"]


@pytest.mark.django_db
def test_json_health_endpoint_has_the_headers_too(client):
    assert "Content-Security-Policy" in client.get("/healthz").headers


def test_there_are_templates_to_check():
    assert len(TEMPLATES) >= 5


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(BASE)))
def test_template_has_no_inline_javascript(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js/"
    assert not INLINE_HANDLER.search(text), "inline on* handler: bind it in static/js/"
    assert not JS_URL.search(text), "javascript: URL"
