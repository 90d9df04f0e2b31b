"""Read-model rows made and inserted in bulk without Django's per-value
machinery: what a rebuild of the read models spends its time on.

Profiled on a 20,000-event rebuild of the core read models (SQLite),
``QuerySet.bulk_create`` took 5.0 of 7.5 seconds, 0.3 of them in the
database: it compiles every value of every row through the field's
``pre_save``/``get_db_prep_save`` chain into one large ``INSERT`` per
batch. ``Model.__init__`` took another second (32,000 rows).

* :func:`insert_rows` writes the same rows with one prepared statement
  (SQLite ``executemany``) or ``COPY`` (PostgreSQL). Each model gets one
  generated function that turns a row into the tuple of its column values:
  values of the types the driver takes as they are (text, numbers,
  booleans; on PostgreSQL also UUIDs and aware datetimes) pass through,
  UUIDs and UTC datetimes on SQLite are converted inline as Django's
  SQLite backend does, and anything else goes through the field's own
  ``get_db_prep_save``. ``tests/tickets/test_bulk_insert.py`` checks that
  the stored values are the ones ``bulk_create`` stores.
* :func:`new_row` builds an instance from keyword values by attribute name
  as ``Model(**values)`` does (defaults for the rest), without its
  per-field descriptor and signal work.

Models with fields that compute their value when saved (``auto_now``,
``auto_now_add``), models with ``pre_init``/``post_init`` receivers and
databases other than SQLite and PostgreSQL take Django's own paths. Rows
whose automatic primary key is unset are inserted without it and, unlike
``bulk_create``, do not get it set afterwards: callers (the projection
session) drop them once written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import connections, models
from django.db.models.base import ModelState

# Only to ask whether a model has init receivers (then Django makes its rows).
from django.db.models.signals import post_init, pre_init  # noqa: TID251

M = TypeVar("M", bound=models.Model)

_NONE: type = type(None)
_TEXT: frozenset[type] = frozenset({str, _NONE})
#: Not bool: COPY writes True as "t", which an integer column refuses.
_INTEGER: frozenset[type] = frozenset({int, _NONE})
#: Field classes whose values the drivers take as they are when of these
#: exact types (exact field classes: a subclass may convert in its own way).
_AS_IS: dict[type[Any], frozenset[type]] = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.SlugField: _TEXT,
    models.EmailField: _TEXT,
    models.URLField: _TEXT,
    models.IntegerField: _INTEGER,
    models.BigIntegerField: _INTEGER,
    models.SmallIntegerField: _INTEGER,
    models.PositiveIntegerField: _INTEGER,
    models.PositiveBigIntegerField: _INTEGER,
    models.PositiveSmallIntegerField: _INTEGER,
    models.BooleanField: frozenset({bool, _NONE}),
    models.FloatField: frozenset({float, _NONE}),
}


def _target(field: Any) -> Any:
    """The field whose values a foreign key stores."""
    while isinstance(field, models.ForeignKey):
        field = field.target_field
    return field


def _utc_naive_text(connection: Any) -> bool:
    """Whether Django's SQLite backend stores an aware UTC datetime as
    ``str(value.replace(tzinfo=None))``."""
    if not settings.USE_TZ:
        return False
    return bool(connection.timezone.utcoffset(None) == dt.timedelta(0))


def _expression(field: Any, connection: Any, index: int, names: dict[str, Any]) -> str:
    """Python source converting ``v`` (the field's value) to the value
    stored; ``names`` receives what the source refers to."""
    slow = f"s{index}"
    names[slow] = lambda value, f=field: f.get_db_prep_save(value, connection)
    kind = type(_target(field))
    if kind in _AS_IS:
        names[f"ok{index}"] = _AS_IS[kind]
        if _AS_IS[kind] is _TEXT:  # text choices (str subclasses) too
            test = f"v.__class__ in ok{index} or isinstance(v, str)"
            return f"(v if {test} else {slow}(v))"
        return f"(v if v.__class__ in ok{index} else {slow}(v))"
    postgres = connection.vendor == "postgresql"
    if kind is models.UUIDField:
        if postgres:
            return f"(v if v is None or v.__class__ is UUID else {slow}(v))"
        return f"(None if v is None else v.hex if v.__class__ is UUID else {slow}(v))"
    if kind is models.DateTimeField:
        aware_utc = "v.__class__ is datetime and v.tzinfo is UTC"
        if postgres:
            return f"(v if v is None or ({aware_utc}) else {slow}(v))"
        if _utc_naive_text(connection):
            # str(v.replace(tzinfo=None)), without the copy: "+00:00" off.
            return (
                f"(None if v is None else v.isoformat(' ')[:-6] "
                f"if {aware_utc} else {slow}(v))"
            )
    return f"(None if v is None else {slow}(v))"


class _Plan:
    """How to insert one model's rows on one connection."""

    def __init__(self, model: type[models.Model], connection: Any, with_pk: bool):
        meta = model._meta
        quote = connection.ops.quote_name
        fields = [
            f
            for f in meta.concrete_fields
            if with_pk or not (f.primary_key and getattr(f, "db_returning", False))
        ]
        self.table = quote(meta.db_table)
        self.columns = ", ".join(quote(f.column) for f in fields)
        self.width = len(fields)
        names: dict[str, Any] = {"UUID": UUID, "datetime": dt.datetime, "UTC": dt.UTC}
        lines = ["def values(rows):", "    out = []", "    add = out.append"]
        lines.append("    for row in rows:")
        lines.append("        d = row.__dict__")
        for i, field in enumerate(fields):
            lines.append(f"        v = d[{field.attname!r}]")
            lines.append(f"        c{i} = {_expression(field, connection, i, names)}")
        lines.append(
            "        add((" + "".join(f"c{i}, " for i in range(len(fields))) + "))"
        )
        lines.append("    return out")
        exec("\n".join(lines), names)  # noqa: S102 - source built from field names
        self.values: Callable[[Sequence[models.Model]], list[tuple[Any, ...]]] = names[
            "values"
        ]


_plans: dict[tuple[type[models.Model], str, str, bool], _Plan] = {}


def _plan(model: type[models.Model], connection: Any, with_pk: bool) -> _Plan:
    key = (model, connection.alias, connection.vendor, with_pk)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _Plan(model, connection, with_pk)
    return plan


def _computes_on_save(model: type[models.Model]) -> bool:
    return any(
        getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        for f in model._meta.concrete_fields
    )


def insert_rows(
    model: type[models.Model], rows: Sequence[models.Model], *, using: str = "default"
) -> None:
    """Insert ``rows`` (new instances of ``model``)."""
    if not rows:
        return
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql") or _computes_on_save(model):
        model._default_manager.using(using).bulk_create(list(rows), batch_size=500)
        return
    pk = model._meta.pk
    if pk is not None and getattr(pk, "db_returning", False):
        groups = [
            (True, [r for r in rows if r.pk is not None]),
            (False, [r for r in rows if r.pk is None]),
        ]
    else:
        groups = [(True, list(rows))]
    for with_pk, group in groups:
        if group:
            _insert(connection, _plan(model, connection, with_pk), group)
    for row in rows:  # stored now, as bulk_create marks them
        row._state.adding, row._state.db = False, using


def _insert(connection: Any, plan: _Plan, rows: Sequence[models.Model]) -> None:
    values = plan.values(rows)
    if connection.vendor == "postgresql":
        statement = f"COPY {plan.table} ({plan.columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            write = copy.write_row
            for row in values:
                write(row)
        return
    marks = ", ".join(["%s"] * plan.width)
    # Quoted names from the model's metadata; the values are parameters.
    statement = f"INSERT INTO {plan.table} ({plan.columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, values)


# ---------------------------------------------------------------------------
# Making rows
# ---------------------------------------------------------------------------


class _Maker:
    """Defaults of one model's fields, by attribute name."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fast = not (
            pre_init.has_listeners(model) or post_init.has_listeners(model)
        )
        self.attnames = frozenset(f.attname for f in model._meta.concrete_fields)
        self.static: dict[str, Any] = {}
        self.computed: list[tuple[str, Callable[[], Any]]] = []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                self.computed.append((field.attname, field.default))
            else:
                self.static[field.attname] = field.get_default()


_makers: dict[type[models.Model], _Maker] = {}


def new_row(model: type[M], /, **values: Any) -> M:
    """``model(**values)`` for values keyed by attribute name (``ticket_id``,
    not ``ticket``); fields not given get their defaults."""
    maker = _makers.get(model)
    if maker is None:
        maker = _makers[model] = _Maker(model)
    if not maker.fast or not maker.attnames.issuperset(values):
        return model(**values)
    row = model.__new__(model)
    state = {**maker.static, **values}
    for name, default in maker.computed:
        if name not in values:
            state[name] = default()
    state["_state"] = ModelState()
    row.__dict__ = state
    return row
