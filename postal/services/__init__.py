"""Writes for postal work, along the flow: items (codes, the state machine, scans), BCCI intake,
handovers (biên bản giao nhận), deliveries and pickup appointments.

The public functions are re-exported here, so ``from postal import services`` and
``services.sign_handover(...)`` keep working.
"""

from postal.services.appointments import book_appointment, mark_appointment
from postal.services.deliveries import DELIVERABLE, record_delivery_attempt, two_notices_met
from postal.services.handovers import (
    add_item_to_handover,
    create_handover,
    record_result_handed_to_post,
    remove_line,
    set_line_complete,
    sign_handover,
    signing_side,
)
from postal.services.intake import receive_bcci_dossier
from postal.services.items import (
    DEFAULT_TARGET_DAYS,
    TRANSITIONS,
    create_return_item,
    default_post_office_for,
    find_item_for_scan,
    issue_code,
    item_weeks,
    locked_item_query,
    scan_item,
    target_days,
    valid_code,
)
from postal.services.returns import HandedToPost, hand_to_post

__all__ = [
    "DEFAULT_TARGET_DAYS",
    "DELIVERABLE",
    "TRANSITIONS",
    "HandedToPost",
    "add_item_to_handover",
    "book_appointment",
    "create_handover",
    "create_return_item",
    "default_post_office_for",
    "find_item_for_scan",
    "hand_to_post",
    "issue_code",
    "item_weeks",
    "locked_item_query",
    "mark_appointment",
    "receive_bcci_dossier",
    "record_delivery_attempt",
    "record_result_handed_to_post",
    "remove_line",
    "scan_item",
    "set_line_complete",
    "sign_handover",
    "signing_side",
    "target_days",
    "two_notices_met",
    "valid_code",
]
