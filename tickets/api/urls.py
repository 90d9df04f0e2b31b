from django.urls import path

from tickets.api import public_views, views, webhook_views

urlpatterns = [
    path("tickets/", views.TicketListCreateApi.as_view(), name="tickets"),
    path("tickets/<uuid:ticket_id>/", views.TicketDetailApi.as_view(), name="ticket"),
    path("tickets/<uuid:ticket_id>/handoffs/", views.TicketHandOffApi.as_view()),
    path("tickets/<uuid:ticket_id>/responses/", views.TicketRespondApi.as_view()),
    path("tickets/<uuid:ticket_id>/notes/", views.TicketAddNoteApi.as_view()),
    path(
        "tickets/<uuid:ticket_id>/customer-replies/",
        views.TicketCustomerReplyApi.as_view(),
    ),
    path("tickets/<uuid:ticket_id>/waiting/", views.TicketWaitApi.as_view()),
    path("tickets/<uuid:ticket_id>/waiting/end/", views.TicketEndWaitingApi.as_view()),
    path("tickets/<uuid:ticket_id>/resolve/", views.TicketResolveApi.as_view()),
    path("tickets/<uuid:ticket_id>/reopen/", views.TicketReopenApi.as_view()),
    path("tickets/<uuid:ticket_id>/close/", views.TicketCloseApi.as_view()),
    path("tickets/<uuid:ticket_id>/assign/", views.TicketAssignApi.as_view()),
    path("tickets/<uuid:ticket_id>/priority/", views.TicketPriorityApi.as_view()),
    path("tickets/<uuid:ticket_id>/scenario/", views.TicketScenarioApi.as_view()),
    path("tickets/<uuid:ticket_id>/ratings/", views.TicketRateApi.as_view()),
    path("tickets/<uuid:ticket_id>/disputes/", views.TicketDisputeApi.as_view()),
    path(
        "tickets/<uuid:ticket_id>/dispute-decisions/",
        views.TicketDisputeDecisionApi.as_view(),
    ),
    path("tickets/<uuid:ticket_id>/timeline/", views.TicketTimelineApi.as_view()),
    path("tickets/<uuid:ticket_id>/events/", views.TicketEventsApi.as_view()),
    path(
        "tickets/<uuid:ticket_id>/customer-link/", views.TicketCustomerLinkApi.as_view()
    ),
    path("public/timeline/<str:token>/", public_views.PublicTimelineApi.as_view()),
    path("public/timeline/<str:token>/replies/", public_views.PublicReplyApi.as_view()),
    path(
        "public/timeline/<str:token>/ratings/", public_views.PublicRatingApi.as_view()
    ),
    path("events/", views.EventLogApi.as_view(), name="events"),
    path("webhooks/", webhook_views.WebhookListCreateApi.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>/", webhook_views.WebhookDetailApi.as_view()),
]
