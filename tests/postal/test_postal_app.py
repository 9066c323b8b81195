"""The postal app on the road: idempotent actions under the phone's id, conflicts shown rather
than applied, proofs of delivery (checked, stripped of EXIF, scoped), labels, and the app shell
(manifest, service worker, pages kept for the day)."""

import io
import json
import os
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from postal import services
from postal.models import ClientAction, DeliveryAttempt, ItemEvent, ItemStatus
from tests.postal.conftest import at
from tests.postal.test_items import hand_to_post

S = ItemStatus
Outcome = DeliveryAttempt.Outcome
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def item(finished_dossier, official, postal_staff):
    item = services.create_return_item(dossier=finished_dossier, by=official)
    item = hand_to_post(item, official, postal_staff, at("2026-03-05", 10))
    return services.scan_item(item=item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY)


def png(size=(300, 120), color=(0, 0, 0, 255), *, exif_gps: bool = False, fmt: str = "PNG") -> bytes:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, color if fmt == "PNG" else (200, 200, 200))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 50.0, 0.0)}  # GPS IFD
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def noise_png() -> bytes:
    """A real PNG over the signature limit (noise does not compress)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(out, format="PNG")
    assert len(out.getvalue()) > 512 * 1024
    return out.getvalue()


def attempt(client, item, **fields):
    data = {"outcome": Outcome.NOT_HOME, **fields}
    return client.post(reverse("postal:item_attempt", args=[item.pk]), data, **JSON)


def test_the_same_failed_attempt_sent_twice_is_one_attempt(client_for, postal_staff, item):
    client = client_for(postal_staff)
    action = str(uuid.uuid4())
    first = attempt(client, item, client_id=action)
    second = attempt(client, item, client_id=action)
    assert first.status_code == 200 and first.json()["result"] == "done"
    assert second.status_code == 200 and second.json()["result"] == "duplicate"
    assert second.json()["status"] == S.DELIVERY_FAILED
    assert DeliveryAttempt.objects.filter(item=item).count() == 1
    item.refresh_from_db()
    assert item.attempts == 1
    assert ItemEvent.objects.filter(item=item, action="item.delivery_failed").count() == 1


def test_two_different_attempts_are_two(client_for, postal_staff, item):
    client = client_for(postal_staff)
    attempt(client, item, client_id=str(uuid.uuid4()))
    attempt(client, item, client_id=str(uuid.uuid4()))
    assert DeliveryAttempt.objects.filter(item=item).count() == 2


def test_an_action_the_item_has_moved_past_is_a_conflict_not_applied(client_for, postal_staff, item):
    client = client_for(postal_staff)
    services.record_delivery_attempt(
        item=item, by=postal_staff, outcome=Outcome.DELIVERED, recipient_name="Nguyễn Văn An", id_checked=True
    )
    late = attempt(client, item, client_id=str(uuid.uuid4()))
    assert late.status_code == 409
    assert late.json()["result"] == "conflict"
    assert "đã được phát" in " ".join(late.json()["messages"])
    assert DeliveryAttempt.objects.filter(item=item).count() == 1
    assert not ClientAction.objects.exists()  # a refused action leaves nothing behind


def test_offline_time_is_kept_and_bounded(client_for, postal_staff, item):
    client = client_for(postal_staff)
    when = timezone.now() - timedelta(hours=3)
    assert attempt(client, item, client_id=str(uuid.uuid4()), at=when.isoformat()).status_code == 200
    assert abs(DeliveryAttempt.objects.get(item=item).at - when) < timedelta(seconds=1)

    too_old = (timezone.now() - timedelta(days=8)).isoformat()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    for bad in (too_old, future, "31/12/9999", "0001-01-01T00:00:00+07:00", "2026-02-30T10:00:00+07:00"):
        response = attempt(client, item, client_id=str(uuid.uuid4()), at=bad)
        assert response.status_code == 409, bad
    assert DeliveryAttempt.objects.filter(item=item).count() == 1


def test_an_invalid_action_id_is_refused(client_for, postal_staff, item):
    client = client_for(postal_staff)
    assert attempt(client, item, client_id="not-a-uuid").status_code == 409
    # A NUL byte is refused before any view runs (core.middleware.RefuseNulMiddleware).
    assert attempt(client, item, client_id="not-a-uuid\x00").status_code == 400
    assert not DeliveryAttempt.objects.exists()


def test_an_action_id_reused_for_another_item_is_refused(
    client_for, postal_staff, item, make_dossier, official
):
    other = services.create_return_item(dossier=make_dossier(), by=official)
    other = hand_to_post(other, official, postal_staff, at("2026-03-05", 10))
    client = client_for(postal_staff)
    action = str(uuid.uuid4())
    assert attempt(client, item, client_id=action).status_code == 200
    assert attempt(client, other, client_id=action).status_code == 409
    assert DeliveryAttempt.objects.filter(item=other).count() == 0


def test_scan_move_is_idempotent_too(client_for, postal_staff, finished_dossier, official):
    item = services.create_return_item(dossier=finished_dossier, by=official)
    item = hand_to_post(item, official, postal_staff, at("2026-03-05", 10))
    client = client_for(postal_staff)
    action = str(uuid.uuid4())
    url = reverse("postal:item_move", args=[item.pk])
    for _ in range(3):
        response = client.post(url, {"to_status": S.OUT_FOR_DELIVERY, "client_id": action}, **JSON)
        assert response.status_code == 200
    assert (
        ItemEvent.objects.filter(item=item, action__in=["item.out_for_delivery", "item.scanned"]).count() == 1
    )


def test_plain_form_posts_still_work_without_the_app(client_for, postal_staff, item):
    response = client_for(postal_staff).post(
        reverse("postal:item_attempt", args=[item.pk]), {"outcome": Outcome.NOT_HOME}
    )
    assert response.status_code == 302
    assert DeliveryAttempt.objects.filter(item=item).count() == 1


def test_delivery_with_signature_and_photo_keeps_them_without_location(client_for, postal_staff, item):
    client = client_for(postal_staff)
    response = client.post(
        reverse("postal:item_attempt", args=[item.pk]),
        {
            "outcome": Outcome.DELIVERED,
            "recipient_name": "Nguyễn Văn An",
            "id_checked": "on",
            "client_id": str(uuid.uuid4()),
            "signature": SimpleUploadedFile("signature.png", png(), content_type="image/png"),
            "photo": SimpleUploadedFile(
                "photo.jpg", png((4000, 3000), exif_gps=True, fmt="JPEG"), content_type="image/jpeg"
            ),
        },
        **JSON,
    )
    assert response.status_code == 200, response.content
    delivered = DeliveryAttempt.objects.get(item=item)
    with delivered.photo.open("rb") as handle:
        photo = Image.open(handle)
        assert photo.format == "JPEG"
        assert max(photo.size) == 1600  # scaled down for storage
        assert not photo.getexif()  # no GPS, no maker: nothing of the phone's metadata
    with delivered.signature.open("rb") as handle:
        assert Image.open(handle).format == "PNG"
    # The proofs are on the item page for the office, and served only through the scoped view.
    page = client.get(reverse("postal:item_detail", args=[item.pk])).content.decode()
    signature_url = reverse("postal:attempt_proof", args=[item.pk, delivered.pk, "signature"])
    assert signature_url in page
    served = client.get(signature_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "no-store" in served["Cache-Control"]
    assert str(delivered.signature.name) not in page  # the storage path never shows


def test_proofs_are_refused_when_not_a_picture_or_too_big(client_for, postal_staff, item):
    client = client_for(postal_staff)
    cases = [
        ("signature", SimpleUploadedFile("s.png", b"\x00not a picture", content_type="image/png")),
        ("signature", SimpleUploadedFile("s.png", noise_png(), content_type="image/png")),
        ("photo", SimpleUploadedFile("p.gif", b"GIF89a" + b"\x00" * 50, content_type="image/gif")),
        ("photo", SimpleUploadedFile("p.jpg", b"\xff" * (9 * 1024 * 1024), content_type="image/jpeg")),
    ]
    for field, upload in cases:
        response = client.post(
            reverse("postal:item_attempt", args=[item.pk]),
            {"outcome": Outcome.DELIVERED, "recipient_name": "An", "id_checked": "on", field: upload},
            **JSON,
        )
        assert response.status_code == 409, field
    assert not DeliveryAttempt.objects.exists()


def test_a_decompression_bomb_is_refused(client_for, postal_staff, item):
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")  # tiny file, 81 megapixels
    response = client_for(postal_staff).post(
        reverse("postal:item_attempt", args=[item.pk]),
        {
            "outcome": Outcome.DELIVERED,
            "recipient_name": "An",
            "id_checked": "on",
            "photo": SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png"),
        },
        **JSON,
    )
    assert response.status_code == 409
    assert not DeliveryAttempt.objects.exists()


@pytest.fixture
def signed_delivery(client_for, postal_staff, item):
    client_for(postal_staff).post(
        reverse("postal:item_attempt", args=[item.pk]),
        {
            "outcome": Outcome.DELIVERED,
            "recipient_name": "Nguyễn Văn An",
            "id_checked": "on",
            "signature": SimpleUploadedFile("signature.png", png(), content_type="image/png"),
        },
        **JSON,
    )
    return DeliveryAttempt.objects.get(item=item)


def test_proofs_are_for_the_office_and_the_desk_only(
    client_for, signed_delivery, item, official, other_postal_staff, other_official, post_manager, leader
):
    url = reverse("postal:attempt_proof", args=[item.pk, signed_delivery.pk, "signature"])
    assert client_for(official).get(url).status_code == 200
    assert client_for(other_postal_staff).get(url).status_code == 404
    assert client_for(other_official).get(url).status_code == 404
    assert client_for(post_manager).get(url).status_code == 403
    assert client_for(leader).get(url).status_code == 403
    missing = reverse("postal:attempt_proof", args=[item.pk, signed_delivery.pk, "photo"])
    assert client_for(official).get(missing).status_code == 404
    odd = reverse("postal:attempt_proof", args=[item.pk, signed_delivery.pk, "passport"])
    assert client_for(official).get(odd).status_code == 404


def test_the_return_handover_record_prints_the_signature(client_for, signed_delivery, item, official, leader):
    handover = item.handover_lines.get().handover
    page = client_for(official).get(reverse("postal:handover_print", args=[handover.pk])).content.decode()
    assert "data:image/png;base64," in page and "Nguyễn Văn An" in page
    # A leader reads that it was signed, not the signature.
    page = client_for(leader).get(reverse("postal:handover_print", args=[handover.pk])).content.decode()
    assert "data:image/png;base64," not in page and "đã ký" in page
    pdf = client_for(official).get(reverse("postal:handover_pdf", args=[handover.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_address_label_has_the_barcode_addresses_and_a_masked_phone(client_for, official, item):
    client = client_for(official)
    page = client.get(reverse("postal:item_label", args=[item.pk])).content.decode()
    assert "<svg" in page and item.code in page
    assert item.recipient_address in page
    assert "Xã Hoàn Lão" in page  # the desk's return address
    assert item.recipient_phone not in page
    pdf = client.get(reverse("postal:item_label_pdf", args=[item.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_labels_of_another_commune_are_404(client_for, other_official, other_postal_staff, item):
    assert client_for(other_official).get(reverse("postal:item_label", args=[item.pk])).status_code == 404
    assert (
        client_for(other_postal_staff).get(reverse("postal:item_label_pdf", args=[item.pk])).status_code
        == 404
    )


def test_manifest_and_service_worker_are_served_with_the_postal_scope(client):
    manifest = client.get(reverse("postal:manifest"))
    assert manifest["Content-Type"] == "application/manifest+json"
    data = json.loads(manifest.content)
    assert data["scope"] == "/postal/" and data["start_url"] == "/postal/deliveries/"
    assert data["display"] == "standalone" and {icon["sizes"] for icon in data["icons"]} == {
        "192x192",
        "512x512",
    }
    worker = client.get(reverse("postal:service_worker"))
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/postal/"
    assert "no-cache" in worker["Cache-Control"] or "max-age=0" in worker["Cache-Control"]
    body = worker.content.decode()
    assert "const APP_SHELL = [" in body and "/static/js/postal-app.js" in body
    csp = worker["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp


def test_every_file_the_worker_keeps_exists(client):
    from django.contrib.staticfiles import finders

    from postal.app_views import APP_SHELL_STATIC

    assert all(finders.find(path) for path in APP_SHELL_STATIC)


def test_only_the_scan_page_may_compile_the_barcode_reader(client_for, postal_staff):
    client = client_for(postal_staff)
    scan = client.get(reverse("postal:scan"))
    assert "'wasm-unsafe-eval'" in scan["Content-Security-Policy"]
    assert "unsafe-eval'" not in scan["Content-Security-Policy"].replace("'wasm-unsafe-eval'", "")
    assert "wasm-unsafe-eval" not in client.get(reverse("postal:deliveries"))["Content-Security-Policy"]


def test_the_day_pages_list_the_offices_items_only(client_for, postal_staff, other_postal_staff, item):
    pages = client_for(postal_staff).get(reverse("postal:offline_pages")).json()["pages"]
    assert f"/postal/scan/?code={item.code}" in pages
    other = client_for(other_postal_staff).get(reverse("postal:offline_pages")).json()["pages"]
    assert f"/postal/scan/?code={item.code}" not in other


def test_scanning_form_01_qr_finds_the_dossiers_item(client_for, postal_staff, item):
    response = client_for(postal_staff).get(reverse("postal:scan"), {"code": item.dossier.code})
    assert response.status_code == 200
    assert item.code in response.content.decode()
