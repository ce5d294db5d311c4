"""Admin for API tokens: look them up, or delete one to revoke it. Secrets are never stored."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created", "last_used", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created", "last_used", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token's secret is shown once, to its owner, on the tokens page.
        return False
