import atexit

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = gettext_lazy("Tickets")

    def ready(self) -> None:
        from tickets.application import set_tickets_application

        # Close the process-wide application (its PostgreSQL connection
        # pool) while the interpreter is still whole: left to garbage
        # collection at shutdown, the datastore's __del__ runs after the
        # modules it needs are gone and prints "Exception ignored in
        # PostgresDatastore.__del__" after every management command.
        atexit.register(set_tickets_application, None)
