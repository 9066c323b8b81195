from django import template

from reports.rates import format_percent, format_points

register = template.Library()


@register.filter
def pct(value) -> str:
    """A rate in percent, or "—" when it has no denominator."""
    return format_percent(value)


@register.filter
def points(value) -> str:
    """A gap to the target in percentage points, signed."""
    return format_points(value)


@register.filter
def gap_class(value) -> str:
    if value is None:
        return "text-body-secondary"
    return "text-success" if value >= 0 else "text-danger"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
