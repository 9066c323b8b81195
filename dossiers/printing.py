"""Printed forms: Form 01 (receipt and appointment) and Form 04 (apology and new date), as
print-styled HTML and as PDF (WeasyPrint, DejaVu Sans for the Vietnamese diacritics)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe


def qr_svg(text: str) -> str:
    """An inline SVG QR code (no external file, no script)."""
    qr = segno.make(text, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=3, border=1, omitsize=False))  # noqa: S308 (segno's own SVG)


PDF_BASE_URL = "http://pdf.invalid/"


def _static_fetcher():
    """Serves the stylesheet from the static files; never fetches anything over the network."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            path = urlparse(url).path
            if path.startswith(settings.STATIC_URL):
                found = finders.find(path[len(settings.STATIC_URL) :])
                if found:
                    body = Path(found).read_bytes()
                    return URLFetcherResponse(url, body=body, headers={"Content-Type": "text/css"})
            raise ValueError(f"PDF rendering does not fetch {url}")

    return StaticFilesOnly()


def render_pdf(template: str, context: dict, *, request=None) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, {**context, "for_pdf": True}, request=request)
    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=_static_fetcher()).write_pdf()
