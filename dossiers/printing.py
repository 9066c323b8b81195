"""Printed forms: Form 01 (receipt and appointment), 02 (supplement request), 03 (refusal) and
04 (apology and new date), as print-styled HTML and as PDF (WeasyPrint, DejaVu Sans for the
Vietnamese diacritics)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlparse

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
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


def tracking_url(dossier, request=None) -> str:
    """The public lookup with the dossier code filled in (the PIN is still typed): what the
    receipt's QR code opens. Absolute when the request says which host citizens reach."""
    path = f"{reverse('tracking:track')}?{urlencode({'code': dossier.code})}"
    return request.build_absolute_uri(path) if request is not None else path


def lookup_address(request=None) -> str:
    """The lookup page's address as printed for citizens to type (no scheme, no query)."""
    url = request.build_absolute_uri(reverse("tracking:track")) if request is not None else ""
    return url.split("://", 1)[-1] if url else reverse("tracking:track")


def prints_for_citizen(user, dossier) -> bool:
    """The receiving commune's own official, who hands the receipt to the citizen."""
    from accounts.models import Role

    return (
        user is not None
        and getattr(user, "role", None) == Role.COMMUNE_OFFICIAL
        and user.unit_id == dossier.receiving_unit_id
    )


def form_context(dossier, *, request=None) -> dict:
    """What every printed form of a dossier needs: the letterhead with the commune's and the
    province's current names (no district on forms since 1 July 2025), the desk's contacts,
    personal numbers masked."""
    from django.utils import timezone

    from dossiers.personal import mask_id_number, mask_phone

    unit = dossier.receiving_unit
    url = tracking_url(dossier, request)
    return {
        "dossier": dossier,
        "documents": dossier.documents.all(),
        "qr": qr_svg(url),
        "track_url": url,
        "lookup_address": lookup_address(request),
        # The lookup PIN is the citizen's key to /track/: printed for the desk that hands the
        # receipt over (a reprint included), hidden from everyone else who may read the dossier.
        "pin": dossier.tracking_pin if prints_for_citizen(getattr(request, "user", None), dossier) else "",
        "masked_id": mask_id_number(dossier.applicant_id_number),
        "masked_phone": mask_phone(dossier.applicant_phone),
        "unit": unit,
        "province": unit.province,
        "now": timezone.localtime(),
    }
