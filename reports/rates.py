"""Rates from counts. Over any period a rate is sum(numerators) / sum(denominators) — never an
average of weekly rates — and a zero denominator gives no rate (shown as "—"), never 0 %."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

from reports.models import COUNTERS, Metric

DASH = "—"


@dataclass(frozen=True)
class RateDefinition:
    metric: str
    numerator: tuple[str, ...]
    denominator: str


RATES: tuple[RateDefinition, ...] = (
    RateDefinition(Metric.BCCI_RETURN_RATE, ("returned_bcci",), "returned"),
    RateDefinition(Metric.BCCI_INTAKE_RATE, ("received_bcci",), "received"),
    RateDefinition(Metric.ON_TIME_RATE, ("finished_early", "finished_on_time"), "finished"),
    RateDefinition(Metric.ONLINE_RATE, ("received_online",), "received"),
    RateDefinition(Metric.JN_COMPLIANCE, ("items_on_target",), "items_delivered"),
    RateDefinition(Metric.SATISFACTION_RATE, ("ratings_satisfied",), "ratings"),
    RateDefinition(Metric.PORTAL_SYNC_RATE, ("portal_synced_on_time",), "portal_changed"),
)
RATE_BY_METRIC = {rate.metric: rate for rate in RATES}


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """Percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(100) * numerator / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rate(counts: Mapping[str, int], metric: str) -> Decimal | None:
    definition = RATE_BY_METRIC[metric]
    return ratio(sum(counts[f] or 0 for f in definition.numerator), counts[definition.denominator] or 0)


def all_rates(counts: Mapping[str, int]) -> dict[str, Decimal | None]:
    return {definition.metric: rate(counts, definition.metric) for definition in RATES}


def sum_counts(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for name in COUNTERS:
            total[name] += row[name] or 0
    return total


def gap(value: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Percentage points above (+) or below (−) the target."""
    if value is None or target is None:
        return None
    return value - target


def format_percent(value: Decimal | None) -> str:
    """'12,5 %' in Vietnamese, '12.5 %' in English; '—' when there is no rate."""
    return DASH if value is None else f"{number_format(value, 1)} %"


def format_points(value: Decimal | None) -> str:
    if value is None:
        return DASH
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{number_format(abs(value), 1)}"
