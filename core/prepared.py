"""A queryset compiled to SQL once per database, then run again and again with new values.

Building a queryset (``filter``, ``select_related``, ``select_for_update``) and compiling it to
SQL costs far more Python than sending the SQL and reading the row: for the one-row reads a
carrier event makes (the item it locks, the dossier a delivery returns) about 0.3–1 ms of CPU
each, against well under 0.1 ms for the statement itself. ``PreparedQuery`` builds the queryset
once with placeholder values, keeps the SQL Django compiled for it, and on every call sends that
SQL with the caller's values and builds the instances exactly as the ORM does (the same
converters, ``Model.from_db`` and ``select_related`` objects), so callers get the same models
from the same statement.

Only for values that reach the database unchanged (ints and strings compared with ``=``), and
for querysets without annotations; anything else raises when the query is first compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

# Placeholders no caller passes: negative ids within every backend's integer range (Django
# drops a comparison with an integer out of range from the SQL), strings with control characters.
_INT_BASE = -987_650_000


def _placeholder(kind: type, index: int):
    if kind is int:
        return _INT_BASE - index
    if kind is str:
        return f"\x1eprepared-{index}\x1e"
    raise TypeError(f"PreparedQuery takes int and str values, not {kind.__name__}")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (position in params, index of the caller's value)
    for_update: bool
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    converters: dict[int, tuple[list, Any]]
    populators: list


class PreparedQuery(Generic[M]):
    """``build(*values)`` returns the queryset; ``kinds`` says the type of each value."""

    def __init__(self, build: Callable[..., QuerySet[M]], kinds: Sequence[type]):
        self._build = build
        self._kinds = tuple(kinds)
        self._compiled: dict[str, _Compiled] = {}
        self._probe: tuple[type[M], bool] | None = None  # the model and FOR UPDATE, on first use

    @property
    def model(self) -> type[M]:
        return self._probed()[0]

    def _probed(self) -> tuple[type[M], bool]:
        if self._probe is None:
            queryset = self._build(*[_placeholder(kind, n) for n, kind in enumerate(self._kinds)])
            self._probe = (queryset.model, bool(queryset.query.select_for_update))
        return self._probe

    def _compile(self, using: str) -> _Compiled:
        placeholders = [_placeholder(kind, n) for n, kind in enumerate(self._kinds)]
        queryset = self._build(*placeholders).using(using)
        query = queryset.query
        if query.annotation_select or queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise ValueError("PreparedQuery: no annotations, prefetches or known related objects")
        compiler = query.get_compiler(using=using)
        connection = compiler.connection
        # as_sql refuses FOR UPDATE outside a transaction; compile inside one, as callers run.
        sql, params = compiler.as_sql()
        slots = []
        for position, value in enumerate(params):
            for index, placeholder in enumerate(placeholders):
                if type(value) is type(placeholder) and value == placeholder:
                    slots.append((position, index))
        missing = set(range(len(placeholders))) - {index for _position, index in slots}
        if missing:
            raise ValueError(f"PreparedQuery: values {sorted(missing)} do not reach the SQL unchanged")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            for_update=bool(query.select_for_update and connection.features.has_select_for_update),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in select[start:end]],
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            populators=get_related_populators(klass_info, select, using),
        )

    def _alias(self) -> str:
        model, for_update = self._probed()
        return router.db_for_write(model) if for_update else router.db_for_read(model)

    def all(self, *values) -> list[M]:
        if len(values) != len(self._kinds):
            raise TypeError(f"PreparedQuery takes {len(self._kinds)} values, {len(values)} given")
        using = self._alias()
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        connection = connections[using]
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for position, index in compiled.slots:
            params[position] = values[index]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        found = []
        for raw in rows:
            row = list(raw)
            for position, (converters, expression) in compiled.converters.items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def get(self, *values) -> M:
        """The one row (``DoesNotExist`` / ``MultipleObjectsReturned`` as ``QuerySet.get``)."""
        found = self.all(*values)
        if len(found) == 1:
            return found[0]
        if not found:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        raise self.model.MultipleObjectsReturned(
            f"get() returned more than one {self.model._meta.object_name} -- it returned {len(found)}!"
        )


# --- writes --------------------------------------------------------------------------------
#
# ``obj.save()`` of a new row and ``obj.save(update_fields=…)`` spend most of their CPU building
# and compiling the INSERT or UPDATE (about 0.1–0.2 ms each), the same statement every time.
# ``save_new`` and ``save_fields`` do what ``Model.save`` does for a plain model — the related
# objects' keys, the pre_save and post_save signals, each field's ``pre_save`` (auto_now…) and
# database value, the key the database returns, the instance's state, the error when an update
# finds no row — with the statement written once per model (and set of columns). A model with its
# own ``save`` (other than the append-only guard, which lets new rows through), a parent model,
# a key set by the caller or an expression as a value goes through ``save`` itself.


def _plain(obj: Model) -> bool:
    from core.models import AppendOnlyModel

    meta = type(obj)._meta
    return type(obj).save in (Model.save, AppendOnlyModel.save) and not meta.parents and not meta.proxy


def _values_are_plain(obj: Model, fields) -> bool:
    return not any(hasattr(getattr(obj, field.attname), "resolve_expression") for field in fields)


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list
    returning: list
    converters: dict[int, tuple[list, Any]]


_inserts: dict[tuple[type[Model], str, OnConflict | None], _Insert | None] = {}


def _compile_insert(cls: type[Model], using: str, on_conflict: OnConflict | None) -> _Insert | None:
    from django.db.models.sql import InsertQuery

    meta = cls._meta
    connection = connections[using]
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    if (
        (returning and not connection.features.can_return_columns_from_insert)
        or meta.order_with_respect_to
        or any(hasattr(field, "get_placeholder") for field in fields)
    ):
        return None
    # Django's own statement for one row, compiled once from an empty instance; its values are
    # left out (each call sends its own, in the same order).
    query = InsertQuery(cls, on_conflict=on_conflict)
    query.insert_values(fields, [cls()], raw=True)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning
    ((sql, params),) = compiler.as_sql()
    if len(params) != len(fields) or getattr(compiler, "returning_params", ()):
        return None
    converters = compiler.get_converters([field.get_col(meta.db_table) for field in returning])
    return _Insert(sql=sql, fields=fields, returning=returning, converters=converters)


def prepared_insert(obj: Model, using: str, on_conflict: OnConflict | None = None) -> _Insert | None:
    """The INSERT of ``obj``'s model compiled once, or None when ``obj`` needs Django's own."""
    key = (type(obj), using, on_conflict)
    if key not in _inserts:
        _inserts[key] = _compile_insert(type(obj), using, on_conflict)
    insert = _inserts[key]
    if insert is None or not _values_are_plain(obj, insert.fields):
        return None
    return insert


def insert_row(obj: Model, connection, insert: _Insert) -> bool:
    """Send ``obj``'s values (each field's ``pre_save``) and set what the database returns; False
    when no row came back (``ON CONFLICT DO NOTHING`` found the key taken)."""
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in insert.fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(insert.sql, params)
        fetched = cursor.fetchone() if insert.returning else ()
    if fetched is None:
        return False
    row = list(fetched)
    for position, (converters, expression) in insert.converters.items():
        for converter in converters:
            row[position] = converter(row[position], expression, connection)
    for value, field in zip(row, insert.returning, strict=True):
        setattr(obj, field.attname, value)
    return True


def _saving(obj: Model, using: str, update_fields: frozenset[str] | None, write) -> None:
    """``Model.save_base`` around one write: pre_save, the write (marking the transaction for
    rollback on an error), the instance's state, post_save."""
    cls = type(obj)
    if not cls._meta.auto_created:
        pre_save.send(sender=cls, instance=obj, raw=False, using=using, update_fields=update_fields)
    with transaction.mark_for_rollback_on_error(using=using):
        write(connections[using])
    obj._state.db = using
    obj._state.adding = False
    if not cls._meta.auto_created:
        post_save.send(
            sender=cls,
            instance=obj,
            created=update_fields is None,
            update_fields=update_fields,
            raw=False,
            using=using,
        )


def save_new(obj: Model) -> None:
    """``obj.save()`` for a new row whose key the database gives."""
    cls = type(obj)
    if not (_plain(obj) and obj._state.adding and obj.pk is None):
        obj.save()
        return
    obj._prepare_related_fields_for_save(operation_name="save")
    using = router.db_for_write(cls, instance=obj)
    insert = prepared_insert(obj, using)
    if insert is None:
        obj.save()
        return
    _saving(obj, using, None, lambda connection: insert_row(obj, connection, insert))


_updates: dict[tuple[type[Model], str, frozenset[str]], tuple[str, list]] = {}


def save_fields(obj: Model, update_fields) -> None:
    """``obj.save(update_fields=update_fields)`` for a row read from the database."""
    cls = type(obj)
    if not update_fields or not _plain(obj) or obj._state.adding or obj.pk is None:
        obj.save(update_fields=update_fields)
        return
    names = frozenset(update_fields)
    obj._prepare_related_fields_for_save(operation_name="save")
    using = router.db_for_write(cls, instance=obj)
    key = (cls, using, names)
    compiled = _updates.get(key)
    if compiled is None:
        meta = cls._meta
        unknown = names.difference(meta._non_pk_concrete_field_names)
        if unknown:
            raise ValueError(
                "The following fields do not exist in this model, are m2m fields, primary keys, or are "
                "non-concrete fields: " + ", ".join(unknown)
            )
        fields = [
            f
            for f in meta.local_concrete_fields
            if f not in meta.pk_fields and not f.generated and (f.name in names or f.attname in names)
        ]
        if not fields or any(hasattr(field, "get_placeholder") for field in fields):
            obj.save(update_fields=update_fields)
            return
        quote = connections[using].ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        table = quote(meta.db_table)
        compiled = _updates[key] = (
            f"UPDATE {table} SET {assignments} WHERE {table}.{quote(meta.pk.column)} = %s",  # noqa: S608 (names)
            fields,
        )
    sql, fields = compiled
    if not _values_are_plain(obj, fields):
        obj.save(update_fields=update_fields)
        return

    def write(connection) -> None:
        params = [
            field.get_db_prep_save(field.pre_save(obj, False), connection=connection) for field in fields
        ]
        params.append(cls._meta.pk.get_db_prep_value(obj.pk, connection))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated = cursor.rowcount
        if not updated:
            raise DatabaseError("Save with update_fields did not affect any rows.")

    _saving(obj, using, names, write)
