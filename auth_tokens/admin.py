"""Token status at a glance for staff, and the few actions a person may take on a token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from auth_tokens import humanize, services
from auth_tokens.credentials import Credentials
from auth_tokens.errors import RingCentralAuthError
from auth_tokens.models import RingCentralToken, TokenEvent
from auth_tokens.services import blocked_for
from auth_tokens.status import describe

MANAGE_PERMISSION = "auth_tokens.manage_ringcentraltoken"


# The actions hold fresh tokens in locals: hidden from error pages and reports (the helpers they
# call hide theirs too, see auth_tokens.client).
@sensitive_variables("token")
def _refresh(creds: Credentials, row: RingCentralToken) -> str:
    token = services.refresh_now(credentials=creds)
    # Without a usable refresh token (revoked, expired, or refused by RingCentral) the service
    # logs in instead: say what happened, not what was asked for.
    how = RingCentralToken.objects.filter(pk=row.pk).values_list("obtained_by", flat=True).first()
    if how and how != RingCentralToken.Obtained.REFRESH:
        return (
            f"Logged in again ({RingCentralToken.Obtained(how).label}), because there was no "
            f"usable refresh token: new {token}, expires {humanize.expiry(token.expires_at)}."
        )
    return f"Refreshed: new {token}, expires {humanize.expiry(token.expires_at)}."


@sensitive_variables("token")
def _log_in_again(creds: Credentials, row: RingCentralToken) -> str:
    token = services.log_in_again(credentials=creds)
    return f"Logged in again: new {token}, expires {humanize.expiry(token.expires_at)}."


def _revoke(creds: Credentials, row: RingCentralToken) -> str:
    services.revoke_tokens(credentials=creds)
    return "Tokens revoked and the RingCentral session ended: the next use logs in again."


def _clear_block(creds: Credentials, row: RingCentralToken) -> str:
    services.clear_block(credentials=creds)
    if not row.blocked:
        return "It was not blocked; nothing to clear."
    return "Block cleared: the next use tries to log in again with the configured credentials."


# name -> (button label, what it does). The same four run as list actions and detail buttons.
# Revoking ends the RingCentral session at once and cannot be undone: it asks first
# (CONFIRM_FIRST), on a page of its own, for the detail button and the list action alike.
ROW_ACTIONS: dict[str, tuple[str, Callable[[Credentials, RingCentralToken], str]]] = {
    "refresh_now": ("Refresh now", _refresh),
    "log_in_again": ("Log in again", _log_in_again),
    "revoke_tokens": ("Revoke tokens", _revoke),
    "clear_block": ("Clear the block", _clear_block),
}
CONFIRM_FIRST = {"revoke_tokens"}
CONFIRM_TEMPLATE = "admin/auth_tokens/ringcentraltoken/confirm_revoke.html"


@admin.register(RingCentralToken)
class RingCentralTokenAdmin(admin.ModelAdmin):
    list_display = (
        "credential",
        "state",
        "access_expires",
        "refresh_expires",
        "last_refresh",
        "last_login",
        "last_error_code",
        "counts",
    )
    list_display_links = ("credential",)
    ordering = ("server_url", "username")
    actions = ("refresh_now", "log_in_again", "revoke_tokens", "clear_block")
    # Ciphertext and the block's HMAC never reach a page: only fingerprints of the tokens do.
    exclude = ("access_token_encrypted", "refresh_token_encrypted", "blocked_fingerprint")
    fieldsets = (
        (
            "Status",
            {
                "fields": (
                    "state",
                    "credential",
                    "server_url",
                    "username",
                    "extension",
                    "login_grant",
                    "owner_id",
                    "configured",
                )
            },
        ),
        (
            "Tokens",
            {
                "fields": (
                    "obtained_by",
                    "access_fingerprint",
                    "access_expires_detail",
                    "access_token_ttl",
                    "refresh_fingerprint",
                    "refresh_expires_detail",
                )
            },
        ),
        (
            "Last error",
            {
                "fields": (
                    "last_error_code",
                    "last_error_message",
                    "last_error_hint",
                    "last_error_when",
                    "throttled_until_when",
                    "blocked_now",
                )
            },
        ),
        (
            "Counters",
            {
                "fields": (
                    "last_refresh",
                    "last_login",
                    "refresh_count",
                    "login_count",
                    "version",
                    "created",
                    "updated",
                )
            },
        ),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    # -- permissions: a status page, never a form --------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are created by the token service on first use

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # every change goes through a service, via the actions below

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # "Revoke tokens" is the way to forget a pair

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_PERMISSION)

    # -- columns and fields ---------------------------------------------------------------------

    @admin.display(description="credential", ordering="username")
    def credential(self, row: RingCentralToken) -> str:
        return str(row)

    @admin.display(description="state")
    def state(self, row: RingCentralToken) -> str:
        return describe(row).summary

    @admin.display(description="access expires", ordering="access_expires_at")
    def access_expires(self, row: RingCentralToken) -> str:
        return _countdown(row.access_expires_at)

    @admin.display(description="refresh expires", ordering="refresh_expires_at")
    def refresh_expires(self, row: RingCentralToken) -> str:
        return _countdown(row.refresh_expires_at)

    @admin.display(description="access expires")
    def access_expires_detail(self, row: RingCentralToken) -> str:
        return _when_and_countdown(row.access_expires_at, humanize.expiry)

    @admin.display(description="refresh expires")
    def refresh_expires_detail(self, row: RingCentralToken) -> str:
        return _when_and_countdown(row.refresh_expires_at, humanize.expiry)

    @admin.display(description="last refresh", ordering="last_refresh_at")
    def last_refresh(self, row: RingCentralToken) -> str:
        return _when_and_countdown(row.last_refresh_at, humanize.ago)

    @admin.display(description="last login", ordering="last_login_at")
    def last_login(self, row: RingCentralToken) -> str:
        return _when_and_countdown(row.last_login_at, humanize.ago)

    @admin.display(description="refreshes / logins")
    def counts(self, row: RingCentralToken) -> str:
        return f"{row.refresh_count} / {row.login_count}"

    @admin.display(description="access token")
    def access_fingerprint(self, row: RingCentralToken) -> str:
        return row.access_fingerprint

    @admin.display(description="refresh token")
    def refresh_fingerprint(self, row: RingCentralToken) -> str:
        return row.refresh_fingerprint

    @admin.display(description="configured", boolean=True)
    def configured(self, row: RingCentralToken) -> bool:
        return _is_configured(row, Credentials.from_settings())

    # Words, not the admin's boolean icons: a red cross beside "blocked" read as a problem
    # when it meant that nothing was blocked.
    @admin.display(description="blocked")
    def blocked_now(self, row: RingCentralToken) -> str:
        if not row.blocked:
            return "no"
        if not blocked_for(row, Credentials.from_settings()):
            return "no longer: the credentials have changed since they were rejected"
        return "yes: texts wait until the credentials are fixed or the block is cleared"

    # Times as everywhere else on these pages (humanize.stamp): to the second, with the zone,
    # not the admin's locale format ("May 3, 2025, 2:03 p.m.").
    @admin.display(description="last error at")
    def last_error_when(self, row: RingCentralToken) -> str:
        return _stamp(row.last_error_at, self.get_empty_value_display())

    @admin.display(description="throttled until")
    def throttled_until_when(self, row: RingCentralToken) -> str:
        return _stamp(row.throttled_until, self.get_empty_value_display())

    @admin.display(description="created at")
    def created(self, row: RingCentralToken) -> str:
        return _stamp(row.created_at, self.get_empty_value_display())

    @admin.display(description="updated at")
    def updated(self, row: RingCentralToken) -> str:
        return _stamp(row.updated_at, self.get_empty_value_display())

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        error = describe(obj).last_error if obj is not None else None
        if not (error and error["resolved"]):
            return fieldsets
        # A later renewal succeeded: the error is history, and its advice no longer applies.
        return [
            (
                "Last error (resolved)",
                {**options, "fields": [f for f in options["fields"] if f != "last_error_hint"]},
            )
            if title == "Last error"
            else (title, options)
            for title, options in fieldsets
        ]

    # -- detail page: state banner and action buttons -------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        row = self.get_object(request, unquote(object_id))
        if row is not None:
            configured = _is_configured(row, Credentials.from_settings())
            buttons = []
            if configured and self.has_manage_permission(request):
                buttons = [
                    (label, self._run_url(row, name))
                    for name, (label, _) in ROW_ACTIONS.items()
                    # Only a block can be cleared: the button beside a healthy token confused.
                    if name != "clear_block" or row.blocked
                ]
            status = describe(row)
            error_at = status.last_error["at"] if status.last_error else None
            extra_context = {
                **(extra_context or {}),
                "token_status": status,
                "error_at": humanize.stamp(error_at) if error_at else "",
                "token_configured": configured,
                "token_buttons": buttons,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults: their "<path:object_id>/" would swallow ".../run/<name>/".
        run = path(
            "<path:object_id>/run/<str:name>/",
            self.admin_site.admin_view(self.run_view),
            name="auth_tokens_ringcentraltoken_run",
        )
        return [run, *super().get_urls()]

    # Nothing secret is posted today (the CSRF token, the action's name), but an error page
    # about a token action shows no posted value at all.
    @method_decorator(sensitive_post_parameters())
    def run_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_manage_permission(request):
            raise PermissionDenied
        row = self.get_object(request, unquote(object_id))
        if row is None or name not in ROW_ACTIONS:
            raise Http404
        if name in CONFIRM_FIRST and request.POST.get("confirmed") != "yes":
            return self._confirm(request, [row], name, action_url=self._run_url(row, name))
        self._run(request, row, name)
        return redirect(
            reverse(
                "admin:auth_tokens_ringcentraltoken_change",
                args=[quote(row.pk)],
                current_app=self.admin_site.name,
            )
        )

    def _run_url(self, row: RingCentralToken, name: str) -> str:
        return reverse(
            "admin:auth_tokens_ringcentraltoken_run",
            args=[quote(row.pk), name],
            current_app=self.admin_site.name,
        )

    # -- actions ------------------------------------------------------------------------------

    @admin.action(description="Refresh now", permissions=["manage"])
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[RingCentralToken]) -> None:
        for row in queryset:
            self._run(request, row, "refresh_now")

    @admin.action(description="Log in again", permissions=["manage"])
    def log_in_again(self, request: HttpRequest, queryset: QuerySet[RingCentralToken]) -> None:
        for row in queryset:
            self._run(request, row, "log_in_again")

    @admin.action(description="Revoke tokens", permissions=["manage"])
    def revoke_tokens(
        self, request: HttpRequest, queryset: QuerySet[RingCentralToken]
    ) -> TemplateResponse | None:
        # Like the admin's "delete selected": the first post shows what will happen, the
        # confirmation posts the same action again with confirmed=yes.
        if request.POST.get("confirmed") != "yes":
            return self._confirm(request, list(queryset), "revoke_tokens", action_url="")
        for row in queryset:
            self._run(request, row, "revoke_tokens")
        return None

    @admin.action(description="Clear the block", permissions=["manage"])
    def clear_block(self, request: HttpRequest, queryset: QuerySet[RingCentralToken]) -> None:
        for row in queryset:
            self._run(request, row, "clear_block")

    @method_decorator(sensitive_post_parameters())
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The list actions (refresh now, log in again, revoke, clear the block) post here.
        return super().changelist_view(request, extra_context)

    def _confirm(
        self,
        request: HttpRequest,
        rows: list[RingCentralToken],
        name: str,
        *,
        action_url: str,
    ) -> TemplateResponse:
        """The page that asks before `name` runs: `action_url` for a detail button, "" (the
        list page) for a list action, which posts the selection again."""
        label, _ = ROW_ACTIONS[name]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}?",
            "opts": self.model._meta,
            "rows": rows,
            "action_name": name,
            "action_label": label,
            "action_url": action_url,
            "cancel_url": (
                reverse(
                    "admin:auth_tokens_ringcentraltoken_change",
                    args=[quote(rows[0].pk)],
                    current_app=self.admin_site.name,
                )
                if action_url
                else reverse(
                    "admin:auth_tokens_ringcentraltoken_changelist",
                    current_app=self.admin_site.name,
                )
            ),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    def _run(self, request: HttpRequest, row: RingCentralToken, name: str) -> None:
        label, act = ROW_ACTIONS[name]
        creds = Credentials.from_settings()
        # The services act on the configured credential set: run on another row, they would
        # quietly touch a different one than the person clicked.
        if not _is_configured(row, creds):
            messages.warning(
                request,
                f"{label}: {row} is not the configured credential set "
                f"({creds.describe_user()} @ {creds.server_url}); nothing done.",
            )
            return
        try:
            outcome = act(creds, row)
        except RingCentralAuthError as error:
            messages.error(request, f"{label} failed for {row}: {error}")
        else:
            messages.success(request, f"{label} for {row}: {outcome}")


@admin.register(TokenEvent)
class TokenEventAdmin(admin.ModelAdmin):
    """The token's history: read-only, like smsapp.admin_readonly.NoHandEdits (not imported:
    auth_tokens never imports smsapp). Rows are written by auth_tokens.services only."""

    list_display = ("when", "kind", "error_code", "token")
    list_filter = ("kind",)
    list_select_related = ("token",)
    ordering = ("-at", "-id")
    readonly_fields = ("token", "kind", "error_code", "when")
    exclude = ("at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="when", ordering="at")
    def when(self, event: TokenEvent) -> str:
        return humanize.stamp(event.at)


def _is_configured(row: RingCentralToken, creds: Credentials) -> bool:
    return row.credential_key == creds.key


def _stamp(when: Any, empty: str) -> str:
    # A read-only field shows a method's None as "None": the admin's empty value instead.
    return humanize.stamp(when) if when is not None else empty


def _countdown(when: Any) -> str:
    if when is None:
        return "none"
    return format_html('<span title="{}">{}</span>', humanize.stamp(when), humanize.expiry(when))


def _when_and_countdown(when: Any, relative: Callable[..., str]) -> str:
    if when is None:
        return relative(None)
    return f"{humanize.stamp(when)} ({relative(when)})"
