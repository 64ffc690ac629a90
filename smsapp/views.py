"""Staff pages: thin views that validate, call a service or selector, and render or redirect."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from smsapp import selectors, services
from smsapp.forms import (
    MAX_PREVIEW_TEXT_CHARS,
    ComposeForm,
    HistoryFilterForm,
    recipients_input_error,
)
from smsapp.models import Message
from smsapp.phones import parse_recipients
from smsapp.segments import MAX_TEXT_UNITS, segment_info
from smsapp.services.messages import recipients_limit_error

SEND_PERMISSION = "smsapp.send_sms"
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
    form = ComposeForm(request.POST or None)
    # "Back" from the confirmation: the form as it was filled in, to change and send again.
    editing = request.method != "POST" or request.POST.get("action") == "back"
    if editing or not form.is_valid():
        return render(request, "smsapp/compose.html", {"form": form})
    if form.needs_confirmation:
        return render(request, "smsapp/confirm.html", {"form": form, "summary": form.summary()})
    try:
        created = services.message_create(
            to_numbers=form.cleaned_data["to"],
            text=form.cleaned_data["text"],
            created_by=request.user,
            send_at=form.cleaned_data["send_at"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "smsapp/compose.html", {"form": form})
    messages.success(request, _created_summary(created))
    return redirect("smsapp:history")


@sender_required
@require_POST
def compose_preview(request: HttpRequest) -> JsonResponse:
    """What the compose page shows while typing: numbers as they will be sent, and segments.

    Both inputs are bounded before any work: a list too long to be one send is refused
    unread (400), as the form refuses it."""
    raw = request.POST.get("to", "")
    text = request.POST.get("text", "")
    problem = recipients_input_error(raw)
    if problem is None and len(text) > MAX_PREVIEW_TEXT_CHARS:
        problem = f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_UNITS}."
    if problem:
        return JsonResponse(
            {"error": problem, "max_recipients": settings.SMS_MAX_RECIPIENTS}, status=400
        )
    numbers, invalid = parse_recipients(raw, settings.SMS_DEFAULT_REGION)
    info = segment_info(text)
    return JsonResponse(
        {
            "numbers": numbers,
            "invalid": invalid,
            "max_recipients": settings.SMS_MAX_RECIPIENTS,
            "confirm_above": settings.SMS_CONFIRM_RECIPIENTS_ABOVE,
            "error": recipients_limit_error(len(numbers)),
            "encoding": info.encoding,
            "units": info.units,
            "segments": info.segments,
            "ucs2_characters": list(info.ucs2_characters),
        }
    )


@sender_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filters = HistoryFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(selectors.message_history(**criteria), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "smsapp/history.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


@sender_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("created_by"), pk=pk)
    return render(
        request, "smsapp/detail.html", {"message": message, "events": message.events.all()}
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
    if services.message_retry(message=message, by=request.user):
        messages.success(request, f"Text #{message.pk} to {message.to_number} is queued again.")
    else:
        messages.error(request, f"Text #{message.pk} has not failed, so there is nothing to retry.")
    return redirect("smsapp:detail", pk=message.pk)


@sender_required
@require_GET
def statuses(request: HttpRequest) -> JsonResponse:
    """Polled by the history and detail pages so statuses change while they are open."""
    raw = request.GET.get("ids", "")
    # Anything that cannot be a message id (a word, "²", an id past 64 bits) names no message.
    ids = [pk for part in raw.split(",")[:MAX_STATUS_IDS] if (pk := selectors.message_id(part))]
    return JsonResponse({"messages": selectors.message_statuses(ids)})


def _created_summary(created: list[Message]) -> str:
    count = len(created)
    noun = "text" if count == 1 else "texts"
    first = created[0]
    if first.status == Message.Status.SCHEDULED:
        when = timezone.localtime(first.send_at).strftime("%Y-%m-%d %H:%M %Z")
        return f"{count} {noun} scheduled for {when}."
    return f"{count} {noun} queued for sending."
