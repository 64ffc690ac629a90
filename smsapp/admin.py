"""Messages for staff to look at, with their timeline and the two actions a person may take;
opt-outs, added and removed through their service, with their history, export and import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from smsapp import optouts_csv, selectors, services
from smsapp.admin_readonly import NoHandEdits
from smsapp.models import Message, MessageEvent, OptOut, OptOutChange
from smsapp.paging import LargeTablePaginator
from smsapp.permissions import MANAGE_OPTOUTS_PERMISSION, SEND_PERMISSION
from smsapp.phones import to_e164
from smsapp.segments import segment_info
from smsapp.services import messages as messages_service
from smsapp.services import optouts
from smsapp.templatetags.smsapp_time import format_local

# A report naming every skipped message of a 500-row selection helps nobody.
MAX_IDS_NAMED = 10


def _time_column(field: str, label: str) -> Callable[[Any, Any], str]:
    """A display for a time field as the staff pages show times: to the second, with the zone
    (the admin's own format, "May 3, 2025, 2:03 p.m.", drops both)."""

    @admin.display(description=label, ordering=field)
    def show(model_admin: Any, obj: Any) -> str:
        value: datetime | None = getattr(obj, field)
        if value is None:  # a read-only field would show a method's None as "None"
            return model_admin.get_empty_value_display()
        return format_local(value, seconds=True)

    return show


def _can_view_messages(request: HttpRequest) -> bool:
    user = request.user
    return user.has_perm("smsapp.view_message") or user.has_perm("smsapp.change_message")


class SenderFilter(admin.SimpleListFilter):
    title = "sender"
    parameter_name = "sender"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(number, number) for number in selectors.distinct_message_values("from_number")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        if self.value():
            return queryset.filter(from_number=self.value())
        return queryset


class CreatedByFilter(admin.SimpleListFilter):
    """The people who created texts: Django's RelatedOnlyFieldListFilter finds them with a SELECT
    DISTINCT over every text, a table scan at each list view."""

    title = "created by"
    parameter_name = "created_by__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = selectors.distinct_message_values("created_by")
        people = get_user_model().objects.filter(pk__in=ids).order_by("username")
        return [(str(person.pk), str(person)) for person in people]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        # The pages' own id parser: "²" passes isdigit() but not int(), and an id past 64 bits
        # is an error in PostgreSQL, not an empty list. User ids are BigAutoFields too.
        if person := selectors.message_id(self.value() or ""):
            return queryset.filter(created_by_id=person)
        return queryset


class MessageEventInline(NoHandEdits, admin.TabularInline):
    """The timeline: rows are only ever added, by the services."""

    model = MessageEvent
    fields = ("at", "status", "description", "error_code")
    readonly_fields = fields
    at = _time_column("created_at", "at")
    ordering = ("created_at", "id")
    extra = 0
    can_delete = False
    verbose_name = "event"
    verbose_name_plural = "timeline"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The timeline is part of the message: whoever may see the message sees its events,
        # without a separate "view message event" permission nobody would think to grant.
        return _can_view_messages(request)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "to_number",
        "status",
        "created_by",
        "created",
        "sent",
        "error_code",
    )
    list_filter = (
        "status",
        "created_at",
        SenderFilter,
        CreatedByFilter,
    )
    list_select_related = ("created_by",)
    # At a million texts (bench/history_bench.py) the list must not read the whole table:
    # no exact total beside the filtered one (show_full_result_count), a total that is
    # estimated past 10,000 (LargeTablePaginator), and no date_hierarchy (its year links are a
    # SELECT DISTINCT over every row); the created_at filter above picks a period instead.
    paginator = LargeTablePaginator
    show_full_result_count = False
    # Django renders each cell of the list through several lookups: 100 rows (its default)
    # cost 130 ms a page; 25, as in the history, a quarter of that.
    list_per_page = 25
    # Matches that the indexes answer; get_search_results reads the term.
    search_fields = ("=to_number", "=provider_message_id")
    search_help_text = (
        "A phone number as you would type it or some of its digits, a text's #, or "
        "RingCentral's message id."
    )
    actions = ("retry_failed", "cancel_scheduled")
    inlines = (MessageEventInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status",
                    "to_number",
                    "from_number",
                    "text",
                    "billed_as",
                    "created_by",
                    "created",
                    "send_at_shown",
                )
            },
        ),
        (
            "Outcome",
            {
                "fields": (
                    "provider_message_id",
                    "sent",
                    "delivered",
                    "error_code",
                    "error_reason",
                    "attempts",
                )
            },
        ),
        (
            "Bookkeeping",
            {
                "classes": ("collapse",),
                "fields": (
                    "next_attempt",
                    "dispatched",
                    "claimed",
                    "held",
                    "next_status_check",
                    "status_checks",
                    "updated",
                ),
            },
        ),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    created = _time_column("created_at", "created at")
    send_at_shown = _time_column("send_at", "send at")
    sent = _time_column("sent_at", "sent at")
    delivered = _time_column("delivered_at", "delivered at")
    next_attempt = _time_column("next_attempt_at", "next attempt at")
    dispatched = _time_column("dispatched_at", "dispatched at")
    claimed = _time_column("claimed_at", "claimed at")
    held = _time_column("held_since", "held since")
    next_status_check = _time_column("next_status_check_at", "next status check at")
    updated = _time_column("updated_at", "updated at")

    # -- permissions: a page to look at; every change goes through a service ------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        """A number as the history's filter reads it (in any form compose accepts, or some of
        its digits: "5550101"), a text's "#12" or "12", or RingCentral's message id. Each has
        an index (the digits a trigram one); Django's default, "icontains" over three
        columns, has none and scanned every text (5 s at a million)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith("#"):  # a text's number, as the pages write it
            return queryset.filter(pk=selectors.message_id(term[1:]) or 0), False
        matches = Q(provider_message_id=term)
        if recipient := selectors.recipient_condition(term):
            matches |= recipient
        if pk := selectors.message_id(term):
            matches |= Q(pk=pk)
        return queryset.filter(matches), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # texts are composed through the send form or send_sms, which validate

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a saved form would bypass the services' conditional status changes

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of what was sent to whom is kept; cancel is the way to stop one

    def has_send_sms_permission(self, request: HttpRequest) -> bool:
        # Retrying or canceling decides whether someone gets a text: the same right as composing
        # one, not "change message" (nobody may edit a message; the admin has no change
        # permission at all).
        return request.user.has_perm(SEND_PERMISSION)

    # -- fields ---------------------------------------------------------------------------------

    @admin.display(description="billed as")
    def billed_as(self, message: Message) -> str:
        info = segment_info(message.text)
        billed = f"{info.encoding}, {info.segments} segment{'s' if info.segments != 1 else ''}"
        if info.ucs2_characters:
            # The usual surprise: one curly quote or emoji makes every segment UCS-2.
            forcing = " ".join(repr(c) for c in info.ucs2_characters)
            billed += f" (UCS-2 because of {forcing})"
        return billed

    # -- actions --------------------------------------------------------------------------------

    @admin.action(description="Retry failed messages", permissions=["send_sms"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        # message_retry refuses these (an opt-out, an invalid number): say why, apart from
        # those skipped for not having failed.
        refused = [m.pk for m in queryset.order_by("pk") if messages_service.resend_refusal(m)]
        if refused:
            messages.warning(
                request,
                f"Not sent again: {_count(refused)} failed in a way sending again cannot fix "
                f"(the recipient opted out, or the number cannot receive texts): "
                f"{_name(refused)}.",
            )
        self._apply(
            request,
            queryset.exclude(pk__in=refused),
            lambda message: services.message_retry(message=message, by=request.user),
            done="Retried",
            skipped_because="not failed",
        )

    @admin.action(description="Cancel scheduled messages", permissions=["send_sms"])
    def cancel_scheduled(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        self._apply(
            request,
            queryset,
            # The timeline names who canceled, as it does for the staff pages' button.
            lambda message: services.message_cancel(message=message, by=request.user),
            done="Canceled",
            skipped_because="not scheduled (or already being sent)",
        )

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Message],
        act: Callable[[Message], bool],
        *,
        done: str,
        skipped_because: str,
    ) -> None:
        changed: list[int] = []
        skipped: list[int] = []
        for message in queryset.order_by("pk"):
            (changed if act(message) else skipped).append(message.pk)
        if changed:
            messages.success(request, f"{done} {_count(changed)}: {_name(changed)}.")
        if skipped:
            # Read the statuses now, not from the selection: a worker may have moved one since.
            statuses = dict(Message.objects.filter(pk__in=skipped).values_list("pk", "status"))
            named = _name(skipped, lambda pk: f"#{pk} ({statuses.get(pk, 'gone')})")
            messages.warning(request, f"Skipped {_count(skipped)}, {skipped_because}: {named}.")


def _count(ids: Sequence[int]) -> str:
    return f"{len(ids)} message{'s' if len(ids) != 1 else ''}"


def _name(ids: Sequence[int], show: Callable[[int], str] = lambda pk: f"#{pk}") -> str:
    shown = ", ".join(show(pk) for pk in ids[:MAX_IDS_NAMED])
    if len(ids) > MAX_IDS_NAMED:
        shown += f" and {len(ids) - MAX_IDS_NAMED} more"
    return shown


# -- opt-outs ----------------------------------------------------------------------------------


def _can_view_optouts(request: HttpRequest, model: str = "optout") -> bool:
    user = request.user
    return user.has_perm(f"smsapp.view_{model}") or user.has_perm(MANAGE_OPTOUTS_PERMISSION)


def _number_search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """A number as typed ("(650) 555-0101", "+16505550101") or some of its digits."""
    term = term.strip()
    if not term:
        return queryset
    digits = "".join(c for c in term if c.isdigit())
    matches = Q(their_number=term) | Q(our_number=term)
    if number := to_e164(term, settings.SMS_DEFAULT_REGION):
        matches |= Q(their_number=number) | Q(our_number=number)
    if digits:
        matches |= Q(their_number__contains=digits)
    return queryset.filter(matches)


class OptOutAddForm(forms.ModelForm):
    """Staff add an opt-out: the number as they type it, ours by default, and why."""

    class Meta:
        model = OptOut
        fields = ("their_number", "our_number", "reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["our_number"].initial = settings.SMS_FROM_NUMBER
        self.fields["our_number"].help_text = (
            f"The number texts go out from ({settings.SMS_FROM_NUMBER}), or “*” for every "
            "number of the RingCentral account."
        )
        self.fields["their_number"].help_text = "The person's number, e.g. +16505550123."
        self.fields["reason"].required = True
        self.fields["reason"].help_text = "Why (kept in the history), e.g. “asked by phone”."

    def clean_their_number(self) -> str:
        return optouts.their_number_e164(self.cleaned_data["their_number"])

    def clean_our_number(self) -> str:
        return optouts.our_number_e164(self.cleaned_data["our_number"])


class OptOutRemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept in the history, e.g. “asked by phone to get texts again”.",
    )


class OptOutImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"UTF-8, at most {optouts_csv.MAX_IMPORT_ROWS:,} rows. {optouts_csv.HEADER_RULE} "
            "An export can be imported again."
        ),
    )
    our_number = forms.CharField(
        label="Our number",
        max_length=20,
        help_text="For rows without an our_number column: our sending number, or “*” for all.",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        help_text="For rows without a reason of their own, e.g. “list from the old system”.",
    )

    def clean_our_number(self) -> str:
        return optouts.our_number_e164(self.cleaned_data["our_number"])


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("their_number", "our_number", "source", "since", "cause")
    list_filter = ("source",)
    search_fields = ("their_number",)  # get_search_results reads the term
    search_help_text = "A phone number as you would type it, or some of its digits."
    actions = ("remove_optouts",)
    list_per_page = 50
    fields = (
        "their_number",
        "our_number",
        "source",
        "reason",
        "cause",
        "inbound_id",
        "inbound_text",
        "message",
        "created_by",
        "since",
    )
    readonly_fields = fields
    since = _time_column("created_at", "since")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="smsapp_optout_export"),
            path("import/", wrap(self.import_view), name="smsapp_optout_import"),
            *super().get_urls(),
        ]

    # -- permissions: add and remove through the service, for those with manage_optouts ------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view_optouts(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_OPTOUTS_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an opt-out is added or removed, with a reason, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removing goes through the action, which asks why and keeps the history

    def has_manage_optouts_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_OPTOUTS_PERMISSION)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OptOut], search_term: str
    ) -> tuple[QuerySet[OptOut], bool]:
        return _number_search(queryset, search_term), False

    # -- adding ----------------------------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OptOutAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        return OptOutAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: OptOut, form: Any, change: bool) -> None:
        # Through the service: the history row, the scheduled texts canceled, RingCentral told.
        optouts.optout_add(
            our_number=obj.our_number,
            their_number=obj.their_number,
            source=OptOut.Source.STAFF,
            reason=obj.reason,
            by=request.user,
        )
        saved = OptOut.objects.get(our_number=obj.our_number, their_number=obj.their_number)
        obj.pk, obj.created_at, obj.source = saved.pk, saved.created_at, saved.source

    # -- fields ----------------------------------------------------------------------------------

    @admin.display(description="cause")
    def cause(self, row: OptOut) -> str:
        if row.source == OptOut.Source.DELIVERY_ERROR and row.message_id:
            url = reverse("admin:smsapp_message_change", args=[row.message_id])
            return format_html(
                'RingCentral refused <a href="{}">text #{}</a> (opted out)', url, row.message_id
            )
        return optouts.optout_cause(row)

    # -- removing --------------------------------------------------------------------------------

    @admin.action(
        description="Remove the selected opt-outs (asks why)", permissions=["manage_optouts"]
    )
    def remove_optouts(
        self, request: HttpRequest, queryset: QuerySet[OptOut]
    ) -> TemplateResponse | None:
        form = OptOutRemoveForm(request.POST if "confirmed" in request.POST else None)
        if form.is_bound and form.is_valid():
            removed = [
                row.their_number
                for row in queryset.order_by("id")
                if optouts.optout_remove(
                    our_number=row.our_number,
                    their_number=row.their_number,
                    source=OptOut.Source.STAFF,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            ]
            if removed:
                messages.success(
                    request,
                    f"Removed {len(removed)} opt-out{'s' if len(removed) != 1 else ''}: "
                    f"{', '.join(removed[:MAX_IDS_NAMED])}"
                    f"{' and more' if len(removed) > MAX_IDS_NAMED else ''}.",
                )
            else:
                messages.warning(request, "Nothing removed: someone removed them already.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Remove opt-outs",
            "rows": list(queryset.order_by("id")[:500]),
            "form": form,
            "action_name": "remove_optouts",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "consents": optouts.consents_access(),
        }
        return TemplateResponse(request, "admin/smsapp/optout/remove.html", context)

    # -- export and import -------------------------------------------------------------------------

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            optouts_csv.export_lines(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="opt-outs-{stamp}.csv"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OptOutImportForm(
            request.POST or None,
            request.FILES or None,
            initial={"our_number": settings.SMS_FROM_NUMBER},
        )
        checked = None
        if request.method == "POST" and form.is_valid():
            checked = optouts_csv.read_import(
                form.cleaned_data["file"].file,
                our_number=form.cleaned_data["our_number"],
                default_reason=form.cleaned_data["reason"],
            )
            if not checked.problems and not checked.rows:
                form.add_error("file", "The file has no numbers in it.")
            elif not checked.problems:
                # All or nothing: a file with one bad row is fixed and sent again whole.
                try:
                    added, already = optouts_csv.import_rows(checked.rows, by=request.user)
                except ValidationError as error:  # a row the check let through
                    form.add_error("file", error)
                else:
                    messages.success(
                        request,
                        f"Imported {len(checked.rows):,} rows: {added:,} opted out now, "
                        f"{already:,} were already.",
                    )
                    return redirect("admin:smsapp_optout_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import opt-outs",
            "form": form,
            "checked": checked,
            "max_rows": optouts_csv.MAX_IMPORT_ROWS,
        }
        return TemplateResponse(request, "admin/smsapp/optout/import.html", context)


@admin.register(OptOutChange)
class OptOutChangeAdmin(admin.ModelAdmin):
    """The history: every opt-out and opt-in, also of removed ones. Read only."""

    list_display = (
        "when",
        "their_number",
        "our_number",
        "action",
        "source",
        "reason",
        "by",
        "push",
    )
    list_filter = ("action", "source", "push")
    list_select_related = ("by",)
    search_fields = ("their_number",)
    search_help_text = "A phone number as you would type it, or some of its digits."
    list_per_page = 50
    when = _time_column("at", "at")
    fields = (
        "when",
        "their_number",
        "our_number",
        "action",
        "source",
        "reason",
        "by",
        "inbound_id",
        "inbound_text",
        "message",
        "push",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view_optouts(request, "optoutchange")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OptOutChange], search_term: str
    ) -> tuple[QuerySet[OptOutChange], bool]:
        return _number_search(queryset, search_term), False
