"""The baseline's one table (no migration: ``migrate --run-syncdb``
creates it, as it does for any app without migrations)."""

from django.db import models


class BenchRow(models.Model):
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.value})"
