"""Conversation pages and RingCentral's webhook endpoint. Thin: services decide."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from conversations import selectors
from conversations.forms import ReplyForm
from conversations.models import Conversation
from conversations.services.conversations import conversation_for, conversation_mark_read
from conversations.services.webhooks import notification_receive, verification_accepted
from smsapp.phones import to_e164
from smsapp.services.messages import message_submit
from smsapp.services.optouts import opted_out_numbers
from smsapp.views import sender_required

PAGE_SIZE = 25
# RingCentral's handshake token is echoed in a header: only a plain token is, never a value
# that could split the header or grow the answer past RingCentral's 1024 bytes.
_HANDSHAKE_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,512}")
logger = logging.getLogger(__name__)


@sender_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    return render(request, "conversations/list.html", _list_context(request))


@sender_required
@require_GET
def conversation_list_live(request: HttpRequest) -> HttpResponse:
    """The list's rows alone, polled by live.js: a reply moves its conversation to the top
    and raises its unread count while the page is open."""
    return render(request, "conversations/_list.html", _list_context(request))


def _list_context(request: HttpRequest) -> dict[str, object]:
    page = Paginator(selectors.conversation_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    opted_out = set(
        opted_out_numbers(
            our_number=settings.SMS_FROM_NUMBER, numbers=[c.their_number for c in rows]
        )
    )
    return {
        "page": page,
        "opted_out": opted_out,
        "replies_from": settings.SMS_FROM_NUMBER,
        "version": selectors.list_version(rows, opted_out),
    }


@sender_required
@require_GET
def conversation_with(request: HttpRequest, number: str) -> HttpResponse:
    """From a text's recipient (history, detail) to its conversation."""
    their_number = to_e164(number, settings.SMS_DEFAULT_REGION)
    if their_number is None:
        messages.error(request, f"“{number}” is not a phone number.")
        return redirect("conversations:list")
    conversation = conversation_for(our_number=settings.SMS_FROM_NUMBER, their_number=their_number)
    return redirect("conversations:thread", pk=conversation.pk)


@sender_required
def conversation_thread(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST":
        sent = _reply(request, conversation, form)
        if sent:
            return redirect(f"{request.path}#reply")
    else:
        conversation_mark_read(conversation=conversation)  # the person is reading it now
    return render(request, "conversations/thread.html", _thread_context(conversation, form))


@sender_required
@require_GET
def conversation_thread_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread's list alone, polled by thread.js; texts that arrive while the page is in
    front of the person count as read."""
    conversation = get_object_or_404(Conversation, pk=pk)
    if request.GET.get("visible") == "1":
        conversation_mark_read(conversation=conversation)
    items = selectors.thread(conversation)
    return render(
        request,
        "conversations/_thread.html",
        {"items": items, "version": selectors.thread_version(items)},
    )


@sender_required
@require_POST
def conversation_read(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    conversation_mark_read(conversation=conversation)
    return redirect("conversations:list")


def _reply(request: HttpRequest, conversation: Conversation, form: ReplyForm) -> bool:
    if not form.is_valid():
        return False
    try:
        # The normal send path: the same rules (opt-outs too), queue and limiter as Compose.
        submission = message_submit(
            to_numbers=[conversation.their_number],
            text=form.cleaned_data["text"],
            created_by=request.user,
            submission_key=form.cleaned_data["submission_key"],
        )
    except ValidationError as error:
        if "submission_key" in getattr(error, "error_dict", {}):
            form.renew_submission_key()
        for message in error.messages:
            form.add_error(None, message)
        return False
    if submission.repeated:
        messages.info(request, "This reply had already been sent: it was sent once, not again.")
    return True


def _thread_context(conversation: Conversation, form: ReplyForm) -> dict[str, object]:
    items = selectors.thread(conversation)
    opted_out = bool(
        opted_out_numbers(our_number=settings.SMS_FROM_NUMBER, numbers=[conversation.their_number])
    )
    return {
        "conversation": conversation,
        "items": items,
        "version": selectors.thread_version(items),
        "form": form,
        "opted_out": opted_out,
        # Replies go out from the configured number, which may not be the one they texted.
        "replies_from": settings.SMS_FROM_NUMBER,
    }


@csrf_exempt  # RingCentral cannot send a CSRF token; the verification token guards it
@require_POST
def ringcentral_webhook(request: HttpRequest) -> HttpResponse:
    """RingCentral's webhook endpoint (docs/ringcentral.md#inbound-texts). An empty POST with
    a Validation-Token header is the handshake at subscription time: echoed within 3 s.
    Every other POST is a notification and must carry our verification token."""
    handshake = request.headers.get("Validation-Token")
    if handshake is not None and not request.body:
        if not _HANDSHAKE_TOKEN.fullmatch(handshake):
            return HttpResponseBadRequest("bad Validation-Token")
        response = HttpResponse(status=200)
        response["Validation-Token"] = handshake
        return response
    # Most documents name it Verification-Token, some Validation-Token: either is accepted.
    token = request.headers.get("Verification-Token") or handshake
    if not verification_accepted(token):
        logger.warning("webhook notification refused: wrong or missing verification token")
        return HttpResponse("wrong verification token", status=403, content_type="text/plain")
    try:
        notification_receive(body=request.body)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    return HttpResponse(status=200)
