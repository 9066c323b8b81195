"""Compute the weekly rates synchronously: the same code the Celery tasks run."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from reports.locks import ComputationBusy
from reports.services.aggregation import compute_weeks, current_monday
from reports.weeks import WeekError, parse_week, week_label, weeks_ending

MAX_WEEKS = 520


class Command(BaseCommand):
    help = (
        "Compute reports.WeeklyRate for one ISO week (default: the current week) or for the N "
        "weeks ending with it. Safe to run again: it gives identical rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week as YYYY-Www, e.g. 2026-W05 (default: this week)")
        parser.add_argument(
            "--weeks", type=int, default=1, help=f"how many weeks ending with --week (1–{MAX_WEEKS})"
        )
        parser.add_argument(
            "--dirty",
            action="store_true",
            help="instead, the weeks writes have marked (what reports.process_dirty_weeks runs)",
        )

    def handle(self, *args, week=None, weeks=1, dirty=False, **options):
        if dirty:
            self._dirty()
            return
        try:
            last = parse_week(week) if week is not None else current_monday()
        except WeekError as exc:
            raise CommandError(str(exc)) from exc
        if not 1 <= weeks <= MAX_WEEKS:
            raise CommandError(f"--weeks must be between 1 and {MAX_WEEKS}.")
        mondays = weeks_ending(last, weeks)
        try:
            rows = compute_weeks(mondays=mondays)
        except ComputationBusy as exc:
            raise CommandError(
                "Another computation of the weekly rates is running; try again later."
            ) from exc
        self.stdout.write(
            f"Weekly rates computed for {week_label(mondays[0])} to {week_label(mondays[-1])}: "
            f"{len(mondays)} weeks, {rows} rows."
        )

    def _dirty(self) -> None:
        from reports import freshness
        from reports.services.aggregation import dirty_weeks

        mondays = dirty_weeks()
        try:
            rows = freshness.process_marked_weeks()
        except ComputationBusy as exc:
            raise CommandError(
                "Another computation of the weekly rates is running; try again later."
            ) from exc
        labels = ", ".join(week_label(monday) for monday in mondays[:10]) + (
            " …" if len(mondays) > 10 else ""
        )
        self.stdout.write(f"Marked weeks recomputed: {len(mondays)} ({labels or 'none'}), {rows} rows.")
