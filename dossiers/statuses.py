"""Dossier statuses (national portal codes) and the named groups every page, report and index
uses — one home, so that "open" or "overdue" means the same everywhere.

"Overdue" (docs/reports.md): the clock is RUNNING — the dossier is not ended and not WAITING_ON_CITIZEN
— and its due date has passed. The dossier list's filter, the dashboard's late list and the weekly
``open_overdue`` apply exactly that (dossiers.selectors.overdue_filter), and
tests/reports/test_overdue_agrees.py proves the three count the same dossiers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.IntegerChoices):
    """National portal status codes."""

    REGISTERED = 1, _("Newly registered")
    ACCEPTED = 2, _("Accepted")
    REFUSED = 3, _("Not accepted")
    PROCESSING = 4, _("Processing")
    SUPPLEMENT_REQUESTED = 5, _("Supplement requested")
    FINANCIAL_OBLIGATION = 6, _("Financial obligation requested")
    WITHDRAWN = 7, _("Withdrawn by the citizen")
    STOPPED = 8, _("Processing stopped")
    FINISHED = 9, _("Processed")
    RETURNED = 10, _("Result returned")


# Not ended yet: registered (a BCCI intake awaiting the handover) or accepted and in processing,
# whether or not the clock runs. The retention rule (open dossiers are kept).
OPEN = frozenset(
    {
        Status.REGISTERED,
        Status.ACCEPTED,
        Status.PROCESSING,
        Status.SUPPLEMENT_REQUESTED,
        Status.FINANCIAL_OBLIGATION,
    }
)
# Accepted at the desk and not ended: the workflow's extension, withdrawal and stop apply.
ACCEPTED_OPEN = OPEN - {Status.REGISTERED}
# The citizen has to act: a supplement to hand in or a financial obligation (fees, land levy) to
# fulfil. The deadline clock stops meanwhile (a supplement restarts it on completion).
WAITING_ON_CITIZEN = frozenset({Status.SUPPLEMENT_REQUESTED, Status.FINANCIAL_OBLIGATION})
# Open and counting against the deadline: OPEN minus WAITING_ON_CITIZEN. The list's overdue and
# nearly-due filters, the dashboard's late and nearly-due lists, the week in progress's
# open_overdue. A registered dossier has no due date until its legal submission, so it can only be
# late once it has one. A tuple because it is also the condition of two partial indexes (its order
# is part of the migration).
RUNNING = (Status.REGISTERED, Status.ACCEPTED, Status.PROCESSING)
# Processing is over, one way or another (finished_at is set on import for these).
ENDED = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.FINISHED, Status.RETURNED})

# Bootstrap badge colour of each status (lists, detail and action pages).
BADGES = {
    Status.RETURNED: "text-bg-success",
    Status.FINISHED: "text-bg-info",
    Status.REFUSED: "text-bg-secondary",
    Status.WITHDRAWN: "text-bg-secondary",
    Status.STOPPED: "text-bg-secondary",
    Status.SUPPLEMENT_REQUESTED: "text-bg-warning",
    Status.FINANCIAL_OBLIGATION: "text-bg-warning",
}
DEFAULT_BADGE = "text-bg-primary"
