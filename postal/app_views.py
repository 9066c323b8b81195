"""The postal employee's app: the web app manifest, the service worker that keeps the screens
usable without a network, the offline fallback page, the list of pages to keep on the phone for
the day, the scan screen's actions (sent at once or replayed from the phone's queue, applied
once), proofs of delivery and the A6 address labels."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from dossiers.personal import mask_phone
from dossiers.printing import render_pdf
from postal import forms, labels, offline, proofs, selectors, services
from postal.models import DeliveryAttempt, Direction
from postal.models import ItemStatus as S
from postal.views import _errors, _scan_url

POSTAL = (Role.POSTAL_STAFF, Role.POST_MANAGER)
ITEM_READERS = (Role.COMMUNE_OFFICIAL, Role.POSTAL_STAFF, Role.POST_MANAGER, Role.LEADER)
# Pages the service worker keeps for the day: at most this many items (an office's day).
OFFLINE_ITEMS = 200

# The files every postal screen needs, cached when the worker installs.
APP_SHELL_STATIC = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/htmx/htmx.min.js",
    "css/postdesk.css",
    "js/postal.js",
    "js/postal-app.js",
    "img/postdesk-192.png",
    "img/postdesk-512.png",
)


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    """Installable app: Android's "Add to Home screen" and iOS's "Add to Home Screen"."""
    return JsonResponse(
        {
            "name": _("PostDesk – postal staff"),
            "short_name": _("PostDesk"),
            "description": _("Deliveries, scans and handovers of administrative results by post."),
            "lang": request.LANGUAGE_CODE,
            "id": reverse("postal:deliveries"),
            "start_url": reverse("postal:deliveries"),
            "scope": reverse("postal:scan").rsplit("scan/", 1)[0],
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": "#0d6efd",
            "icons": [
                {"src": static("img/postdesk-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("img/postdesk-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("img/postdesk-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@functools.cache
def _release(worker_source: str) -> str:
    """A fingerprint of the worker and the files it keeps: changes whenever a release does."""
    digest = hashlib.sha256(Path(worker_source).read_bytes())
    for path in APP_SHELL_STATIC:
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:12]


@require_GET
@never_cache
def service_worker(request):
    """The worker script, served from /postal/ so its scope is the postal screens only. The list
    of files to keep is written into it, so a new release (new file names or a new version)
    installs a new worker and drops the old caches."""
    source = finders.find("js/postal-sw.js")
    if not source:
        raise Http404
    shell = [static(path) for path in APP_SHELL_STATIC]
    shell.append(reverse("postal:offline"))
    header = (
        f"const VERSION = {_release(source)!r};\n"
        f"const APP_SHELL = {shell!r};\n"
        f"const OFFLINE_PAGE = {reverse('postal:offline')!r};\n"
        f"const STATIC_URL = {settings.STATIC_URL!r};\n"
    )
    with open(source, encoding="utf-8") as handle:
        body = handle.read()
    response = HttpResponse(header + body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("postal:scan").rsplit("scan/", 1)[0]
    return response


@require_GET
def offline_page(request):
    """What the app shows for a page it has not kept: the kept items stay reachable."""
    return render(request, "postal/offline.html")


@role_required(*POSTAL)
@never_cache
def offline_pages(request):
    """The scan pages of the items the employee's office delivers, for the phone to keep."""
    items = selectors.deliveries_for(request.user).values_list("code", flat=True)[:OFFLINE_ITEMS]
    scan = reverse("postal:scan")
    pages = [reverse("postal:deliveries")] + [f"{scan}?{urlencode({'code': code})}" for code in items]
    return JsonResponse({"pages": pages, "user": request.user.pk})


@role_required(Role.POSTAL_STAFF, Role.COMMUNE_OFFICIAL)
def attempt_proof(request, pk: int, attempt_id: int, kind: str):
    """A signature or photo, to the office that delivered the item and the desk that sent it;
    post managers, leaders and administrators see that a proof exists, not the proof itself."""
    if request.user.role not in (Role.POSTAL_STAFF, Role.COMMUNE_OFFICIAL):
        raise PermissionDenied
    if kind not in ("signature", "photo"):
        raise Http404
    item = selectors.item_for_user_or_404(request.user, pk)
    attempt = get_object_or_404(DeliveryAttempt, pk=attempt_id, item=item)
    proof = getattr(attempt, kind)
    if not proof:
        raise Http404
    response = FileResponse(
        proof.open("rb"), content_type="image/png" if kind == "signature" else "image/jpeg"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _label_context(request, pk: int) -> dict:
    item = selectors.item_for_user_or_404(request.user, pk)
    if item.direction != Direction.RETURN:
        raise Http404
    dossier = item.dossier
    province = dossier.receiving_unit.parent
    while province is not None and province.level != province.Level.PROVINCE:
        province = province.parent
    return {
        "item": item,
        "dossier": dossier,
        "desk": dossier.receiving_unit,
        "province": province,
        "barcode": labels.code128_svg(item.code),
        "masked_phone": mask_phone(item.recipient_phone),
    }


@role_required(*ITEM_READERS)
def item_label(request, pk: int):
    return render(request, "postal/item_label.html", _label_context(request, pk))


@role_required(*ITEM_READERS)
def item_label_pdf(request, pk: int):
    context = _label_context(request, pk)
    pdf = render_pdf("postal/item_label.html", context, request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{context["item"].code}.pdf"'
    return response


# --- actions from the scan screen: sent at once or replayed from the phone's queue -----------


def _wants_json(request) -> bool:
    """The postal app's own requests (online or replayed from the offline queue) ask for JSON."""
    return "application/json" in request.headers.get("Accept", "")


def _answer(request, item, outcome=None, error: ValidationError | None = None):
    """JSON for the app (200 done or already done, 409 refused: the employee must look), or the
    scan page with a message for a plain form post."""
    if _wants_json(request):
        if error is not None:
            return JsonResponse({"result": "conflict", "messages": error.messages}, status=409)
        status = outcome.status
        return JsonResponse(
            {
                "result": "duplicate" if outcome.duplicate else "done",
                "status": status,
                "status_label": str(S(status).label),
                "message": _("%(code)s: %(status)s.") % {"code": item.code, "status": S(status).label},
            }
        )
    if error is not None:
        _errors(request, error)
    else:
        messages.success(
            request, _("%(code)s: %(status)s.") % {"code": item.code, "status": S(outcome.status).label}
        )
    return redirect(_scan_url(item.code))


@require_POST
@role_required(*POSTAL)
def item_move(request, pk: int):
    item = selectors.item_for_user_or_404(request.user, pk)
    try:
        at = offline.client_time(request.POST.get("at"))
        outcome = offline.apply_once(
            client_id=offline.parse_client_id(request.POST.get("client_id")),
            user=request.user,
            item=item,
            kind="move",
            action=lambda: services.scan_item(
                item=item, by=request.user, to_status=request.POST.get("to_status", ""), at=at
            ),
        )
    except ValidationError as error:
        return _answer(request, item, error=error)
    return _answer(request, item, outcome)


@require_POST
@role_required(*POSTAL)
def item_attempt(request, pk: int):
    item = selectors.item_for_user_or_404(request.user, pk)
    form = forms.DeliveryForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [message for field in form.errors.values() for message in field]
        return _answer(
            request, item, error=ValidationError(errors or _("Choose the outcome of the attempt."))
        )
    data = form.cleaned_data
    try:
        at = offline.client_time(data["at"])
        signature = proofs.clean_signature(data["signature"]) if data["signature"] else None
        photo = proofs.clean_photo(data["photo"]) if data["photo"] else None
        outcome = offline.apply_once(
            client_id=offline.parse_client_id(data["client_id"]),
            user=request.user,
            item=item,
            kind="attempt",
            action=lambda: services.record_delivery_attempt(
                item=item,
                by=request.user,
                outcome=data["outcome"],
                at=at,
                recipient_name=data["recipient_name"],
                id_checked=data["id_checked"],
                is_proxy=data["is_proxy"],
                proxy_authorisation=data["proxy_authorisation"],
                note=data["note"],
                signature=signature,
                photo=photo,
            ),
        )
    except ValidationError as error:
        return _answer(request, item, error=error)
    return _answer(request, item, outcome)
