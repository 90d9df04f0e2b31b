"""An email backend whose server is down (a real failure path, not a mock
of Baton's code)."""

from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise OSError("mail server down")
