"""Admin: conversations, inbound texts (read-only: they are what RingCentral told us), and how
texts come in (webhook subscription or message sync) with what to fix."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from conversations.models import Conversation, InboundText, MessageSyncState, WebhookSubscription
from conversations.services.webhooks import webhook_state


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "their_number",
        "our_number",
        "last_activity_at",
        "last_direction",
        "unread_count",
    )
    search_fields = ("=their_number",)
    list_per_page = 25


@admin.register(InboundText)
class InboundTextAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "from_number", "to_number", "text", "keyword", "via", "read_at")
    list_filter = ("via", "keyword")
    search_fields = ("=from_number", "=ringcentral_id")
    list_per_page = 25
    # No date_hierarchy or full count: this table grows like the message table.
    show_full_result_count = False


@admin.register(MessageSyncState)
class MessageSyncStateAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "last_success_at", "last_run_at", "full_syncs", "last_error", "mode")
    exclude = ("sync_token",)

    @admin.display(description="how replies arrive")
    def mode(self, obj: MessageSyncState) -> str:
        return webhook_state().detail


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("subscription_id", "status", "expires_at", "last_notification_at", "state")
    # The token's digest is no secret, but it helps nobody reading the page.
    exclude = ("token_digest",)

    @admin.display(description="what it means")
    def state(self, obj: WebhookSubscription) -> str:
        return webhook_state().detail
