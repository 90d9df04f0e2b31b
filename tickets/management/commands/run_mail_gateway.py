"""The mail gateway process: an SMTP server the mail server (MTA) relays
Baton's mail to, until stopped (SIGTERM, SIGINT)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.mail.gateway import Gateway


class Command(BaseCommand):
    help = "Run the SMTP mail gateway (email in) until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--host",
            default=settings.BATON_MAIL_GATEWAY_HOST,
            help="Address to listen on (default: MAIL_GATEWAY_HOST).",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.BATON_MAIL_GATEWAY_PORT,
            help="Port to listen on; 0 picks a free one (default: MAIL_GATEWAY_PORT).",
        )

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: Any) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        gateway = Gateway(host=host, port=port)
        gateway.start()
        self.stdout.write(f"Mail gateway listening on {gateway.url}")
        self.stdout.flush()
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            gateway.stop()
        self.stdout.write("Mail gateway stopped.")
