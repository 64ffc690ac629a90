"""Staff pages: thin views that validate, call a service or selector, and render or redirect."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.models import Template
from campaigns.services import templates as template_services
from smsapp import selectors, services
from smsapp.forms import (
    MAX_PREVIEW_TEXT_CHARS,
    ComposeForm,
    HistoryFilterForm,
    UserSettingsForm,
)
from smsapp.middleware import browser_zone_name
from smsapp.models import Message
from smsapp.paging import LargeTablePaginator
from smsapp.permissions import SEND_PERMISSION
from smsapp.phones import parse_recipients
from smsapp.segments import segment_info
from smsapp.services import preferences
from smsapp.services.messages import message_submit
from smsapp.templatetags.smsapp_time import format_local
from smsapp.validation import (
    problem,
    validate_recipient_limit,
    validate_recipients_input,
    validate_text,
)

PAGE_SIZE = 25
MAX_STATUS_IDS = 200


def sender_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users without the permission get 403."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(SEND_PERMISSION):
            raise PermissionDenied("You are signed in, but not as a staff sender.")
        return view(request, *args, **kwargs)

    return wrapped


@sender_required
def compose(request: HttpRequest) -> HttpResponse:
    # "Start from a template": ?template=<id> fills Message with its text, and the form carries
    # the id on, so that a single text does not go out with the template's {placeholders}.
    posted = request.method == "POST"
    template_id = (request.POST if posted else request.GET).get("template")
    template = template_services.template_find(template_id)
    text_checks: list[Callable[[str], None]] = []
    if template is not None:
        text_checks.append(
            functools.partial(template_services.validate_placeholders_replaced, template=template)
        )
    form = ComposeForm(
        request.POST or None,
        initial={"text": template.text} if template and not posted else None,
        text_checks=text_checks,
    )
    # "Back" from the confirmation: the form as it was filled in, to change and send again.
    editing = not posted or request.POST.get("action") == "back"
    if editing or not form.is_valid():
        context = {"form": form, **_compose_templates(template, template_id, posted)}
        return render(request, "smsapp/compose.html", context)
    if form.needs_confirmation:
        return render(request, "smsapp/confirm.html", {"form": form, "summary": form.summary()})
    try:
        submission = message_submit(
            to_numbers=form.cleaned_data["to"],
            text=form.cleaned_data["text"],
            created_by=request.user,
            send_at=form.cleaned_data["send_at"],
            submission_key=form.cleaned_data["submission_key"],
        )
    except ValidationError as error:
        if "submission_key" in getattr(error, "error_dict", {}):
            form.renew_submission_key()  # this form's key is spent: the next Send is new
        form.add_error(None, error)
        context = {"form": form, **_compose_templates(template, template_id, posted)}
        return render(request, "smsapp/compose.html", context)
    # A repeat (double click, retried POST) lands where the first did, with the same words:
    # the browser shows only the last answer, and it must say what was sent.
    messages.success(request, _created_summary(submission.messages))
    if submission.repeated:
        messages.info(request, "This form had already been sent: it was sent once, not again.")
    return redirect("smsapp:history")


def _compose_templates(
    template: Template | None, template_id: str | None, posted: bool
) -> dict[str, Any]:
    """The compose page's "Start from a template": the choices, the one in use and its
    placeholders, or why the one asked for is not there."""
    context: dict[str, Any] = {
        "template_choices": template_services.template_choices(),
        "start_template": template,
        "start_placeholders": [],
        "start_problem": None,
    }
    if template is not None:
        context["start_placeholders"] = template_services.placeholder_hints(template.text)
        query = urlencode({"template": template.pk})
        context["start_bulk_url"] = f"{reverse('campaigns:bulk-new')}?{query}"
    elif template_id and not posted:
        # A link to a template deleted since, or a mistyped address: the page still works.
        context["start_problem"] = (
            "That template does not exist (any more): it may have been deleted. "
            "Pick another, or write the message yourself."
        )
    return context


@sender_required
def user_settings(request: HttpRequest) -> HttpResponse:
    """Your settings: the time zone times are shown and read in (else the browser's)."""
    current = preferences.user_preferences(user=request.user)
    form = UserSettingsForm(request.POST or None, initial={"time_zone": current.time_zone})
    if request.method == "POST" and form.is_valid():
        saved = preferences.user_time_zone_set(
            user=request.user, time_zone=form.cleaned_data["time_zone"]
        )
        if saved.time_zone:
            messages.success(request, f"Saved: times are shown in {saved.time_zone}.")
        else:
            messages.success(request, "Saved: times are shown in your browser's time zone.")
        return redirect("smsapp:settings")
    return render(
        request,
        "smsapp/settings.html",
        {"form": form, "browser_zone": browser_zone_name(request)},
    )


@sender_required
@require_POST
def compose_preview(request: HttpRequest) -> JsonResponse:
    """What the compose page shows while typing: numbers as they will be sent, and segments.

    Both inputs are bounded before any work: a list too long to be one send is refused
    unread (400), as the form refuses it."""
    raw = request.POST.get("to", "")
    text = request.POST.get("text", "")
    refusal = problem(validate_recipients_input, raw)
    if refusal is None and len(text) > MAX_PREVIEW_TEXT_CHARS:
        refusal = problem(validate_text, text)  # the form's words for a text too long
    if refusal:
        return JsonResponse(
            {"error": refusal, "max_recipients": settings.SMS_MAX_RECIPIENTS}, status=400
        )
    numbers, invalid = parse_recipients(raw, settings.SMS_DEFAULT_REGION)
    info = segment_info(text)
    return JsonResponse(
        {
            "numbers": numbers,
            "invalid": invalid,
            "max_recipients": settings.SMS_MAX_RECIPIENTS,
            "confirm_above": settings.SMS_CONFIRM_RECIPIENTS_ABOVE,
            "error": problem(validate_recipient_limit, len(numbers)),
            "encoding": info.encoding,
            "units": info.units,
            "segments": info.segments,
            "characters": info.characters,
            "ucs2_characters": list(info.ucs2_characters),
        }
    )


@sender_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filters = HistoryFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    # Read before the page: a text created in between is then above it, and added live.
    newest = selectors.new_rows_cursor()
    page = LargeTablePaginator(selectors.message_history(**criteria), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "smsapp/history.html",
        {
            "filters": filters,
            "page": page,
            "rows": selectors.history_rows(page.object_list),
            "query": query.urlencode(),
            # Only the first page grows live: the others are a fixed slice of the past.
            "live_after": newest if page.number == 1 else None,
        },
    )


@sender_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("created_by"), pk=pk)
    if request.GET.get("confirm") == "cancel":
        # The step before canceling: a page of its own (a GET, so a stray click changes
        # nothing), whose button is the only form that posts to "cancel".
        return render(request, "smsapp/confirm_cancel.html", {"message": message})
    events = list(message.events.all())
    return render(
        request,
        "smsapp/detail.html",
        {
            "message": message,
            "events": events,
            "status_label": selectors.status_label(message),
            "attempts": selectors.message_attempts(message, events),
            "resend_refusal": services.messages.resend_refusal(message),
        },
    )


@sender_required
@require_POST
def message_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    if services.message_cancel(message=message, by=request.user):
        messages.success(request, f"Text #{message.pk} to {message.to_number} was canceled.")
    else:
        messages.error(
            request, f"Text #{message.pk} could not be canceled: it is already on its way."
        )
    return redirect("smsapp:detail", pk=message.pk)


@sender_required
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    # The service decides (a repeated POST of the same form counts once); the view only says why
    # it did nothing.
    key = request.POST.get("action_key")
    if services.message_retry(message=message, by=request.user, key=key):
        messages.success(request, f"Text #{message.pk} to {message.to_number} is queued again.")
    elif refusal := services.messages.resend_refusal(message):
        messages.error(request, f"Text #{message.pk} was not sent again: {refusal}")
    else:
        messages.error(request, f"Text #{message.pk} has not failed, so there is nothing to retry.")
    return redirect("smsapp:detail", pk=message.pk)


@sender_required
@require_GET
def statuses(request: HttpRequest) -> JsonResponse:
    """Polled by the history and detail pages so statuses change while they are open.

    `ids=1,2`: {"messages": {id: {status, label, error}}}. The history adds `view=history`
    and gets "rows" too: the history rows of `ids`, reasons included. Its first page also
    sends `after=N` and its filters, and gets "new" (rows created after id N that its filters
    let through, newest first) and "after" (the N to send next time)."""
    raw = request.GET.get("ids", "")
    # Anything that cannot be a message id (a word, "²", an id past 64 bits) names no message.
    ids = [pk for part in raw.split(",")[:MAX_STATUS_IDS] if (pk := selectors.message_id(part))]
    answer: dict[str, Any] = {"messages": selectors.message_statuses(ids)}
    if request.GET.get("view") == "history":
        answer["rows"] = selectors.history_rows_by_id(ids)
        if "after" in request.GET:
            filters = HistoryFilterForm(request.GET)
            criteria = filters.cleaned_data if filters.is_valid() else {}
            # 0 (an empty history) or anything that is not an id: every row is new.
            after = selectors.message_id(request.GET["after"]) or 0
            answer["new"] = selectors.new_history_rows(after=after, **criteria)
            answer["after"] = selectors.new_rows_cursor(after)
    return JsonResponse(answer)


def _created_summary(created: list[Message]) -> str:
    count = len(created)
    noun = "text" if count == 1 else "texts"
    first = created[0]
    if first.status == Message.Status.SCHEDULED:
        return f"{count} {noun} scheduled for {format_local(first.send_at)}."
    return f"{count} {noun} queued for sending."
