"""Writes to administrative units: loading the official list and district groupings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communes.models import AdministrativeUnit

# The two-level structure (34 provinces, 3,321 communes) took effect on this day.
REFORM_DATE = date(2025, 7, 1)

Level = AdministrativeUnit.Level
Kind = AdministrativeUnit.Kind


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _official_units():
    """Provinces and communes as (code, name, level, kind, parent_code), from vietnam-provinces."""
    from vietnam_provinces import Province, VietNamDivisionType, Ward

    kinds = {
        VietNamDivisionType.TINH: Kind.PROVINCE,
        VietNamDivisionType.THANH_PHO_TRUNG_UONG: Kind.CITY,
        VietNamDivisionType.XA: Kind.COMMUNE,
        VietNamDivisionType.PHUONG: Kind.WARD,
        VietNamDivisionType.DAC_KHU: Kind.SPECIAL_ZONE,
    }
    for province in Province.iter_all():
        yield f"{int(province.code):02d}", province.name, Level.PROVINCE, kinds[province.division_type], None
    for ward in Ward.iter_all():
        yield (
            f"{int(ward.code):05d}",
            ward.name,
            Level.COMMUNE,
            kinds[ward.division_type],
            f"{int(ward.province_code):02d}",
        )


@transaction.atomic
def load_official_units() -> LoadResult:
    """Create or update provinces and communes; a second run changes nothing.

    A commune that an administrator placed in a district grouping of the right province keeps
    that grouping as its parent.
    """
    result = LoadResult()
    existing = {unit.code: unit for unit in AdministrativeUnit.objects.all()}
    by_id = {unit.id: unit for unit in existing.values()}
    rows = list(_official_units())

    def apply(code, name, level, kind, parent):
        unit = existing.get(code)
        if unit is None:
            unit = AdministrativeUnit.objects.create(
                code=code, name=name, level=level, kind=kind, parent=parent, valid_from=REFORM_DATE
            )
            existing[code] = unit
            result.created += 1
            return
        current_parent = by_id.get(unit.parent_id)
        keeps_grouping = (
            parent is not None
            and current_parent is not None
            and current_parent.level == Level.DISTRICT
            and current_parent.parent_id == parent.id
        )
        wanted_parent_id = unit.parent_id if keeps_grouping else (parent.id if parent else None)
        if (unit.name, unit.level, unit.kind, unit.parent_id) == (name, level, kind, wanted_parent_id):
            result.unchanged += 1
            return
        unit.name, unit.level, unit.kind, unit.parent_id = name, level, kind, wanted_parent_id
        unit.save(update_fields=["name", "level", "kind", "parent"])
        result.updated += 1

    for code, name, level, kind, parent_code in rows:
        if parent_code is None:
            apply(code, name, level, kind, None)
    for code, name, level, kind, parent_code in rows:
        if parent_code is not None:
            apply(code, name, level, kind, existing[parent_code])
    return result


@transaction.atomic
def define_district(
    *,
    code: str,
    name: str,
    province_code: str,
    commune_codes: list[str],
    kind: str = Kind.DISTRICT,
    identifier: str = "",
) -> AdministrativeUnit:
    """Group communes of one province under a district-level unit (idempotent)."""
    try:
        province = AdministrativeUnit.objects.get(code=province_code, level=Level.PROVINCE)
    except AdministrativeUnit.DoesNotExist:
        raise ValidationError(_("Province %(code)s does not exist.") % {"code": province_code}) from None
    communes = list(AdministrativeUnit.objects.filter(code__in=commune_codes, level=Level.COMMUNE))
    missing = sorted(set(commune_codes) - {c.code for c in communes})
    if missing:
        raise ValidationError(_("Unknown communes: %(codes)s.") % {"codes": ", ".join(missing)})
    foreign = [
        c.code
        for c in communes
        if c.parent_id != province.id and (c.parent is None or c.parent.parent_id != province.id)
    ]
    if foreign:
        raise ValidationError(
            _("Communes outside province %(province)s: %(codes)s.")
            % {"province": province.name, "codes": ", ".join(foreign)}
        )
    district, _created = AdministrativeUnit.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "level": Level.DISTRICT,
            "kind": kind,
            "parent": province,
            "identifier": identifier,
        },
    )
    AdministrativeUnit.objects.filter(id__in=[c.id for c in communes]).update(parent=district)
    return district
