"""Issue an integration API token; the key is printed once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tickets.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token acting as a user. The key is shown only now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True, help="Username the token acts as.")
        parser.add_argument("--name", required=True, help="Label, e.g. 'CRM sync'.")

    def handle(self, *args: Any, user: str, name: str, **options: Any) -> None:
        try:
            owner = get_user_model().objects.get(username=user, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user {user!r}.") from None
        if not name.strip():
            raise CommandError("--name must not be empty.")
        token, key = ApiToken.issue(user=owner, name=name.strip()[:100])
        self.stdout.write(
            f"Token {token.pk} '{token.name}' for {owner.get_username()}:"
        )
        self.stdout.write(key)
        self.stdout.write("Store it now: only its hash is kept.")
