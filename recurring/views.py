"""Recurring send pages: list, create and edit with a preview, one send's times, pause and
resume. Thin: services decide, selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recurring import selectors
from recurring.forms import RecurringSendForm
from recurring.models import RecurringSend
from recurring.services import sends
from smsapp.services.messages import new_submission_key
from smsapp.views import sender_required

OCCURRENCES_PER_PAGE = 25
PREVIEW = "preview"


@sender_required
@require_GET
def recurring_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "recurring": r,
            "last_label": selectors.last_status_label(r.last_status),  # type: ignore[attr-defined]
        }
        for r in selectors.recurring_list()
    ]
    return render(request, "recurring/list.html", {"rows": rows})


@sender_required
@require_http_methods(["GET", "POST"])
def recurring_new(request: HttpRequest) -> HttpResponse:
    form = _form(request, data=request.POST or None)
    # One key per rendered form: posted twice, it creates one recurring send.
    key = request.POST.get("creation_key") or new_submission_key()
    if request.method == "POST" and form.is_valid() and request.POST.get("action") != PREVIEW:
        try:
            recurring = sends.recurring_send_create(
                fields=form.recurring_fields(), by=request.user, key=key
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Recurring send “{recurring.name}” saved.")
            return redirect("recurring:detail", pk=recurring.pk)
    return _form_page(request, form, recurring=None, key=key)


@sender_required
@require_http_methods(["GET", "POST"])
def recurring_edit(request: HttpRequest, pk: int) -> HttpResponse:
    recurring = get_object_or_404(RecurringSend, pk=pk)
    form = _form(
        request, data=request.POST or None, initial=RecurringSendForm.initial_for(recurring)
    )
    if request.method == "POST" and form.is_valid() and request.POST.get("action") != PREVIEW:
        try:
            sends.recurring_send_update(
                recurring=recurring, fields=form.recurring_fields(), by=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Recurring send “{recurring.name}” saved.")
            return redirect("recurring:detail", pk=recurring.pk)
    return _form_page(request, form, recurring=recurring, key="")


@sender_required
@require_GET
def recurring_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recurring = get_object_or_404(
        RecurringSend.objects.select_related("created_by", "template"), pk=pk
    )
    page = Paginator(selectors.occurrences(recurring), OCCURRENCES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    texts = selectors.occurrence_messages([o.submission_key for o in page.object_list])
    return render(
        request,
        "recurring/detail.html",
        {
            "recurring": recurring,
            "coming": [] if recurring.paused else selectors.preview(recurring.spec()),
            "page": page,
            "rows": [(o, texts.get(o.submission_key, [])) for o in page.object_list],
        },
    )


@sender_required
@require_POST
def recurring_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    recurring = RecurringSend.objects.filter(pk=pk).first()
    if recurring is None:
        raise Http404("No such recurring send.")
    if action == "pause":
        if sends.recurring_send_pause(recurring=recurring, by=request.user):
            messages.success(
                request,
                f"“{recurring.name}” paused: no more texts are made until you resume it.",
            )
        else:
            messages.info(request, f"“{recurring.name}” was already paused.")
    elif action == "resume":
        if sends.recurring_send_resume(recurring=recurring, by=request.user):
            messages.success(
                request,
                f"“{recurring.name}” resumed: it is sent from its next time on; the times "
                "while it was paused are not sent.",
            )
        else:
            messages.info(request, f"“{recurring.name}” was not paused.")
    else:
        raise Http404("No such action.")
    return redirect("recurring:detail", pk=recurring.pk)


def _form(request: HttpRequest, **kwargs: Any) -> RecurringSendForm:
    # New sends default to the viewer's zone and today there (smsapp.middleware).
    return RecurringSendForm(
        zone_name=request.person_zone.name,  # type: ignore[attr-defined]
        today=timezone.localdate(),
        **kwargs,
    )


def _add_errors(form: RecurringSendForm, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _form_page(
    request: HttpRequest, form: RecurringSendForm, *, recurring: RecurringSend | None, key: str
) -> HttpResponse:
    coming = None
    if form.is_bound and form.is_valid():
        coming = selectors.preview(form.recurring_fields().spec())
    elif not form.is_bound and recurring is not None:
        coming = selectors.preview(recurring.spec())
    return render(
        request,
        "recurring/form.html",
        {"form": form, "recurring": recurring, "coming": coming, "creation_key": key},
    )
