from collections.abc import Iterable

from django.urls import URLPattern, path

from tickets import commands
from tickets.api import (
    attachment_views,
    followup_views,
    notification_views,
    public_views,
    views,
    webhook_views,
)


def command_paths(
    table: Iterable[commands.Command] = commands.TABLE,
) -> list[URLPattern]:
    """One endpoint per command of the table, at ``tickets/<id>/<path>``."""
    return [
        path(
            f"tickets/<uuid:ticket_id>/{command.path}",
            views.command_api(command).as_view(),
        )
        for command in table
    ]


urlpatterns = [
    path("tickets/", views.TicketListCreateApi.as_view(), name="tickets"),
    path("tickets/<uuid:ticket_id>/", views.TicketDetailApi.as_view(), name="ticket"),
    *command_paths(),
    path("tickets/<uuid:ticket_id>/timeline/", views.TicketTimelineApi.as_view()),
    path("attachments/", attachment_views.AttachmentUploadApi.as_view()),
    path(
        "tickets/<uuid:ticket_id>/attachments/",
        attachment_views.TicketAttachmentListApi.as_view(),
    ),
    path(
        "tickets/<uuid:ticket_id>/attachments/<uuid:attachment_id>/",
        attachment_views.TicketAttachmentDownloadApi.as_view(),
    ),
    path("tickets/<uuid:ticket_id>/events/", views.TicketEventsApi.as_view()),
    path(
        "tickets/<uuid:ticket_id>/customer-link/", views.TicketCustomerLinkApi.as_view()
    ),
    path("public/timeline/<str:token>/", public_views.PublicTimelineApi.as_view()),
    path("public/timeline/<str:token>/replies/", public_views.PublicReplyApi.as_view()),
    path(
        "public/timeline/<str:token>/ratings/", public_views.PublicRatingApi.as_view()
    ),
    path(
        "public/timeline/<str:token>/attachments/",
        public_views.PublicAttachmentUploadApi.as_view(),
    ),
    path(
        "public/timeline/<str:token>/attachments/<uuid:attachment_id>/",
        public_views.PublicAttachmentDownloadApi.as_view(),
    ),
    path("events/", views.EventLogApi.as_view(), name="events"),
    path("follow-ups/", followup_views.FollowUpListApi.as_view(), name="follow_ups"),
    path("me/notifications/", notification_views.MyNotificationSettingsApi.as_view()),
    path("webhooks/", webhook_views.WebhookListCreateApi.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>/", webhook_views.WebhookDetailApi.as_view()),
]
