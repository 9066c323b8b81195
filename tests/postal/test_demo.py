"""The postal demo data: transfers, items with attempts, signed handovers, appointments — and a
second run adds nothing."""

from io import StringIO

from demo import postal as demo
from dossiers.models import ReturnChannel, Status
from postal import s10
from postal.models import (
    DeliveryAttempt,
    Handover,
    ItemEvent,
    ItemStatus,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
    TaskTransferEvent,
)
from tests.postal.conftest import at


def test_demo_seed_is_complete_and_idempotent(
    make_dossier, land, official, postal_staff, post_manager, administrator, other_commune
):
    for _ in range(4):
        make_dossier(status=Status.RETURNED, returned_at=at("2026-03-05", 15))
    for _ in range(3):
        make_dossier(status=Status.FINISHED)
    make_dossier(status=Status.RETURNED, return_channel=ReturnChannel.DESK, decline_reason="in_person")
    out = StringIO()
    demo.seed(options={"seed": 1}, stdout=out)
    counts = {
        model: model.objects.count()
        for model in (
            TaskTransfer,
            TaskTransferEvent,
            PostalItem,
            ItemEvent,
            DeliveryAttempt,
            Handover,
            PickupAppointment,
        )
    }
    assert counts[TaskTransfer] == 2 * 2 * 3  # two communes × justice and land × three tasks
    assert TaskTransfer.objects.filter(status=TaskTransfer.Status.DONE).exists()
    assert PostalItem.objects.filter(direction="return").count() == 7
    assert PostalItem.objects.filter(status=ItemStatus.DELIVERED).count() == 4
    assert all(s10.is_valid(code) for code in PostalItem.objects.values_list("code", flat=True))
    assert Handover.objects.filter(status=Handover.Status.SIGNED).exists()
    statuses = set(PickupAppointment.objects.values_list("status", flat=True))
    assert statuses == {"booked", "missed", "done"}
    assert PostalItem.objects.filter(direction="intake").count() == 1  # the done appointment

    demo.seed(options={"seed": 1}, stdout=StringIO())
    assert {model: model.objects.count() for model in counts} == counts
