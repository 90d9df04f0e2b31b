"""Baton's admin site: Django's admin, named Baton, with a landing page
per role, the viewer's timezone on every page, and no dead ends.

Installed as the default admin site (``admin.site``) by
:class:`BatonAdminConfig`, which replaces ``"django.contrib.admin"`` in
``INSTALLED_APPS``, so every ``@admin.register`` of every app lands here.

- **Landing**: ``/admin/`` sends an agent or department lead to their work
  queue and a service lead (a front-line lead: sees every department) to
  the lead dashboard (``admin:sla_dashboard``; the full index while it
  does not exist); superusers and staff without a department keep the
  index. ``/admin/?all=1`` is the full index for everyone ("All pages").
- **Times**: every admin page renders inside the viewer's timezone
  (:func:`tickets.preferences.viewer_timezone`, the one rule); the header
  names it.
- **No dead ends**: a page the viewer may not use answers a plain 403
  page (no traceback in the log); an "add" page of a model nobody adds
  here sends the viewer back to its list.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_View = TypeVar("_View", bound=Callable[..., Any])

#: The URL name of the service leads' dashboard (built in ``sla``).
DASHBOARD_URL_NAME = "admin:sla_dashboard"
QUEUE_URL_NAME = "admin:tickets_queueticket_changelist"
#: The query parameter that asks for the full index instead of a landing.
ALL_PAGES = "all"


class BatonAdminConfig(AdminConfig):
    """``INSTALLED_APPS`` entry in place of ``"django.contrib.admin"``."""

    default_site = "tickets.admin_site.BatonAdminSite"


def landing_url(user: Any) -> str | None:
    """Where ``/admin/`` sends ``user``; None: the full index.

    Superusers: the index. Service leads (front-line leads, who see every
    department): the lead dashboard, or the index while there is none.
    Agents and department leads: their work queue.
    """
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return None
    if user.is_superuser:
        return None
    from departments.selectors import memberships_for_user
    from tickets.selectors import sees_everything

    if sees_everything(user):
        try:
            return reverse(DASHBOARD_URL_NAME)
        except NoReverseMatch:
            return None
    if memberships_for_user(user) and user.has_perm("tickets.view_queueticket"):
        return reverse(QUEUE_URL_NAME)
    return None


def all_pages_url() -> str:
    return f"{reverse('admin:index')}?{ALL_PAGES}=1"


class BatonAdminSite(admin.AdminSite):
    site_header = _("Baton")
    site_title = _("Baton")
    index_title = _("All pages")
    #: No public home page to "view": the link is left out.
    site_url = None

    def index(  # type: ignore[override] # a landing page is a redirect
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if ALL_PAGES not in request.GET:
            target = landing_url(request.user)
            if target:
                return HttpResponseRedirect(target)
        return super().index(request, extra_context)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        from tickets.preferences import viewer_timezone

        context = super().each_context(request)
        user = getattr(request, "user", None)
        context["viewer_timezone"] = viewer_timezone(user).key
        context["all_pages_url"] = all_pages_url()
        context["my_settings_url"] = (
            reverse("admin:tickets_notificationsettings_changelist")
            if user is not None and user.is_authenticated and user.is_staff
            else ""
        )
        context["followups_url"] = _followups_url(user)
        return context

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        """Django's wrapper (login, CSRF, no cache), rendered inside the
        viewer's timezone, with a refused page answered as a plain 403 page
        (or, for an add page, a way back to the list) instead of an
        exception logged with its traceback."""
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def baton_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            from departments.selectors import remember_memberships
            from tickets.preferences import viewer_timezone

            # One membership lookup per page: every visibility and role
            # check of the request reads them from the user object.
            remember_memberships(request.user)
            with timezone.override(viewer_timezone(request.user)):
                try:
                    response = inner(request, *args, **kwargs)
                except PermissionDenied:
                    response = self.refused(request)
                if isinstance(response, TemplateResponse) and not response.is_rendered:
                    # Render now, inside the zone: activating it for the
                    # thread would leak into its next request.
                    response.render()
            return response

        return cast(_View, baton_view)

    def refused(self, request: HttpRequest) -> HttpResponse:
        """The answer to a page the viewer may not use: an add page goes back
        to its list when the viewer may see that; anything else is a 403
        page that says so and links to the viewer's landing page."""
        match = request.resolver_match
        name = match.url_name if match is not None else ""
        if name and name.endswith("_add"):
            model_admin = getattr(match.func, "model_admin", None) if match else None
            if model_admin is not None and model_admin.has_view_permission(request):
                changelist = reverse(f"admin:{name.removesuffix('_add')}_changelist")
                return HttpResponseRedirect(changelist)
        response = TemplateResponse(
            request,
            "admin/baton/refused.html",
            {
                **self.each_context(request),
                "title": _("Not available to you"),
                "landing_url": landing_url(request.user) or reverse("admin:index"),
            },
            status=403,
        )
        return response


def _followups_url(user: Any) -> str:
    """The Dissatisfied inbox, for those who see some follow-ups."""
    from tickets.followups import follow_up_scope

    if user is None or not getattr(user, "is_staff", False):
        return ""
    return reverse("admin:tickets_followups") if follow_up_scope(user).sees_any else ""
