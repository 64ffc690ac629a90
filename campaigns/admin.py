"""Admin: templates (written through their service), and bulk sends, their rows and A2P batches
to look at (read-only: the bulk services alone change them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from campaigns.models import A2PBatch, BulkRecipient, BulkSend, Template
from campaigns.services import templates as template_services
from campaigns.services.templates import (
    MANAGE_TEMPLATES_PERMISSION,
    validate_template_name,
    validate_template_text,
)
from smsapp.admin_readonly import NoHandEdits
from smsapp.paging import LargeTablePaginator
from smsapp.permissions import SEND_PERMISSION
from smsapp.templatetags.smsapp_time import format_local


def _time_column(field: str, label: str) -> Callable[[Any, Any], str]:
    """A time as the staff pages show it, with its zone (the admin's own format drops it)."""

    @admin.display(description=label, ordering=field)
    def show(model_admin: Any, obj: Any) -> str:
        value: datetime | None = getattr(obj, field)
        if value is None:
            return model_admin.get_empty_value_display()
        return format_local(value)

    return show


# -- templates ---------------------------------------------------------------------------------


class TemplateAdminForm(forms.ModelForm):
    """The pages' rules and words (campaigns.services.templates), beside each field."""

    class Meta:
        model = Template
        fields = ("name", "text")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        validate_template_name(name, exclude=self.instance)
        return name

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        validate_template_text(text)
        return text


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateAdminForm
    list_display = ("name", "short_text", "placeholders_used", "created_by", "last_changed")
    list_select_related = ("created_by",)
    search_fields = ("name",)
    fields = ("name", "text", "created_by", "last_changed")
    readonly_fields = ("created_by", "last_changed")
    last_changed = _time_column("updated_at", "last changed")

    @admin.display(description="text")
    def short_text(self, obj: Template) -> str:
        return Truncator(obj.text).chars(80)

    @admin.display(description="placeholders")
    def placeholders_used(self, obj: Template) -> str:
        hints = template_services.placeholder_hints(obj.text)
        return ", ".join(hint.token for hint in hints) or "—"

    # -- permissions: the same as the Templates pages ------------------------------------------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may use templates on the pages may read them here (if they are staff).
        user = request.user
        return user.has_perm(SEND_PERMISSION) or user.has_perm(MANAGE_TEMPLATES_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_TEMPLATES_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(MANAGE_TEMPLATES_PERMISSION)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(MANAGE_TEMPLATES_PERMISSION)

    # -- writes: through the service, as from the pages ----------------------------------------

    def save_model(self, request: HttpRequest, obj: Template, form: Any, change: bool) -> None:
        name, text = form.cleaned_data["name"], form.cleaned_data["text"]
        if change:
            template_services.template_update(template=obj, name=name, text=text, by=request.user)
        else:
            created = template_services.template_create(name=name, text=text, by=request.user)
            obj.pk, obj.created_by, obj.updated_at = (
                created.pk,
                created.created_by,
                created.updated_at,
            )

    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        template_services.template_delete(template=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            template_services.template_delete(template=template)


# -- bulk sends: read-only -----------------------------------------------------------------------


class ReadOnlyAdmin(NoHandEdits, admin.ModelAdmin):
    """Rows the bulk services keep: nobody adds, edits or deletes them by hand."""


@admin.register(BulkSend)
class BulkSendAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "via",
        "created_by",
        "created",
        "scheduled_for",
        "row_count",
        "valid_count",
        "segment_count",
        "finished",
    )
    list_filter = ("status", "via")
    list_select_related = ("created_by",)
    list_per_page = 25
    created = _time_column("created_at", "created")
    scheduled_for = _time_column("send_at", "send at")
    finished = _time_column("finished_at", "finished")


@admin.register(BulkRecipient)
class BulkRecipientAdmin(ReadOnlyAdmin):
    list_display = (
        "bulk",
        "line",
        "number",
        "status",
        "segments",
        "skip_reason",
        "error_code",
        "changed",
    )
    list_filter = ("status",)
    list_select_related = ("bulk",)
    # One row per CSV line: this table grows like the message table, so its list pages are
    # paged as the history's are (no exact count of a million rows on each view).
    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 25
    changed = _time_column("updated_at", "last change")


@admin.register(A2PBatch)
class A2PBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "bulk",
        "status",
        "size",
        "attempts",
        "ringcentral_id",
        "created",
        "attempt_ended",
        "polls_done",
    )
    list_filter = ("status",)
    list_select_related = ("bulk",)
    search_fields = ("=ringcentral_id",)
    list_per_page = 25
    created = _time_column("created_at", "created")
    attempt_ended = _time_column("attempt_ended_at", "last attempt ended")
