"""The visibility rule in the admin, for every page that shows ticket data.

Rows that name a ticket (``tickets.selectors.ticket_lookup``) are shown
through ``TicketDataAdmin`` or, inline, ``TicketDataTabularInline``: their
``get_queryset`` keeps the rows of tickets the viewer may see
(``tickets.selectors.ticket_visibility``, the rule the API follows), and
Django builds the list, search, filters, date hierarchy, change, history and
delete pages, actions and autocomplete from that queryset. On top of it:

* a row the viewer may not see answers 404, like one that does not exist
  (Django's admin would redirect with "doesn't exist" instead);
* list filters never offer values read outside the viewer's rows: a filter
  on a relation offers only related objects of visible rows, and one on a
  field across a relation only values found in visible rows;
* a form field choosing a ticket offers only visible tickets.

A system check (``tickets.E001``/``E002``) fails when a model whose rows
name a ticket is registered, or shown inline, without these bases, so a new
admin page cannot forget the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite, all_sites
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from tickets import selectors
from tickets.models import TicketSummary
from tickets.selectors import TicketVisibility

_CACHE_ATTRIBUTE = "_baton_ticket_visibility"

if TYPE_CHECKING:
    _Base = admin.options.BaseModelAdmin[Any]
    _AdminBase = admin.ModelAdmin[Any]
else:
    _Base = _AdminBase = object


def request_visibility(request: HttpRequest) -> TicketVisibility:
    """The viewer's ``TicketVisibility``, computed once per request (a
    changelist asks for its queryset several times)."""
    visibility: TicketVisibility | None = getattr(request, _CACHE_ATTRIBUTE, None)
    if visibility is None:
        visibility = selectors.ticket_visibility(request.user)
        setattr(request, _CACHE_ATTRIBUTE, visibility)
    return visibility


def _is_ticket_model(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, TicketSummary)


class TicketVisibilityMixin(_Base):
    """Scope ``get_queryset`` and ticket choices to visible tickets; shared by
    the model admin and inline bases below."""

    #: How a row names its ticket; None: found by ``ticket_lookup``.
    ticket_lookup: str | None = None

    def get_ticket_lookup(self) -> str:
        lookup = self.ticket_lookup or selectors.ticket_lookup(self.model)
        if lookup is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: {self.model.__name__} rows name no "
                "ticket; set ticket_lookup or use a plain admin."
            )
        return lookup

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return request_visibility(request).rows(
            super().get_queryset(request), self.get_ticket_lookup()
        )

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if _is_ticket_model(db_field.related_model) and "queryset" not in kwargs:
            kwargs["queryset"] = request_visibility(request).tickets
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if _is_ticket_model(db_field.related_model) and "queryset" not in kwargs:
            kwargs["queryset"] = request_visibility(request).tickets
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedValuesListFilter(admin.AllValuesFieldListFilter):
    """``AllValuesFieldListFilter`` that reads the values through the model
    admin's (scoped) queryset even across a relation, where Django reads
    the related table whole."""

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: Any,
        model: Any,
        model_admin: Any,
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request)
            .exclude(**{f"{field_path}__isnull": True})
            .order_by(field_path)
            .values_list(field_path, flat=True)
            .distinct()
        )


def scoped_list_filter(model: type[Model], spec: Any) -> Any:
    """``spec`` (a ``list_filter`` entry) turned into one whose choices come
    only from the admin's queryset: Django's filters on a relation list
    every related object, and on a field across a relation every value of
    the related table. Other filters are left as they are."""
    if isinstance(spec, str):
        path, filter_class = spec, None
    elif (
        isinstance(spec, tuple | list)
        and len(spec) == 2
        and isinstance(spec[0], str)
        and spec[1] in (admin.RelatedFieldListFilter, admin.AllValuesFieldListFilter)
    ):
        path, filter_class = spec[0], spec[1]
    else:
        return spec  # a SimpleListFilter or a chosen filter class
    try:
        fields = get_fields_from_path(model, path)
    except (FieldDoesNotExist, NotRelationField):  # Django's checks report it
        return spec
    last = fields[-1]
    if last.is_relation:
        return (path, admin.RelatedOnlyFieldListFilter)
    if len(fields) > 1 and (filter_class is not None or not last.choices):
        return (path, ScopedValuesListFilter)
    return spec


class HiddenIsMissingMixin(_AdminBase):
    """A row outside ``get_queryset`` (hidden from the viewer, or missing)
    answers 404 on its change, history and delete pages, where Django's
    admin would redirect saying it does not exist."""

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """The row, if the viewer's queryset has it; raises ``Http404``
        otherwise."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found, or not yours to see."))
        return obj


class TicketDataAdmin(
    HiddenIsMissingMixin, TicketVisibilityMixin, admin.ModelAdmin[Any]
):
    """Base of every model admin whose rows name a ticket (see the module
    docstring)."""

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [
            scoped_list_filter(self.model, spec)
            for spec in super().get_list_filter(request)
        ]


class ReadOnlyTicketDataAdmin(TicketDataAdmin):
    """Read models about tickets: derived from the event log, so nobody
    adds, changes or deletes their rows here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketDataTabularInline(TicketVisibilityMixin, admin.TabularInline[Any, Any]):
    """Base of every inline whose rows name a ticket."""


class TicketDataStackedInline(TicketVisibilityMixin, admin.StackedInline[Any, Any]):
    """Base of every stacked inline whose rows name a ticket."""


def unscoped_ticket_admins(sites: Iterable[AdminSite]) -> list[checks.CheckMessage]:
    """An error for each registered model admin or inline showing rows that
    name a ticket without the visibility bases."""
    errors: list[checks.CheckMessage] = []
    for site in sites:
        for model, model_admin in site._registry.items():
            if selectors.ticket_lookup(model) is not None and not isinstance(
                model_admin, TicketDataAdmin
            ):
                errors.append(
                    checks.Error(
                        f"{type(model_admin).__name__} shows {model._meta.label} "
                        "rows, which name a ticket, without the visibility rule.",
                        hint="Derive it from tickets.admin.TicketDataAdmin.",
                        obj=type(model_admin),
                        id="tickets.E001",
                    )
                )
            for inline in model_admin.inlines:
                if selectors.ticket_lookup(inline.model) is not None and not issubclass(
                    inline, TicketVisibilityMixin
                ):
                    errors.append(
                        checks.Error(
                            f"{inline.__name__} shows {inline.model._meta.label} "
                            "rows, which name a ticket, without the visibility "
                            "rule.",
                            hint="Derive it from tickets.admin."
                            "TicketDataTabularInline.",
                            obj=inline,
                            id="tickets.E002",
                        )
                    )
    return errors


@checks.register(checks.Tags.admin)
def check_ticket_data_admins(**kwargs: Any) -> list[checks.CheckMessage]:
    """Every admin site: ticket data is shown only through the rule."""
    return unscoped_ticket_admins(all_sites)
