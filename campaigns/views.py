"""Bulk send pages: upload, preview, confirm, progress, results. Thin: services decide."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors
from campaigns.forms import BulkUploadForm, ConfirmForm, PhoneColumnForm
from campaigns.models import BulkSend, Template
from campaigns.services import bulk as bulk_services
from smsapp.views import sender_required

ROWS_PER_PAGE = 50


@sender_required
@require_GET
def bulk_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(BulkSend.objects.select_related("created_by"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "campaigns/bulk_list.html", {"page": page})


@sender_required
def bulk_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if template_id := request.GET.get("template"):
        template = (
            Template.objects.filter(pk=template_id).first() if template_id.isdigit() else None
        )
        if template is None:
            messages.error(
                request, "That template no longer exists: choose another or write the text."
            )
        else:
            initial = {"template": template, "text": template.text}
    form = BulkUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            bulk = bulk_services.bulk_create_from_csv(
                file=upload.file,
                file_name=upload.name,
                text=form.cleaned_data["text"],
                created_by=request.user,
                phone_column=form.cleaned_data["phone_column"],
                template=form.cleaned_data["template"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            return redirect("campaigns:bulk-detail", pk=bulk.pk)
    return render(
        request, "campaigns/bulk_new.html", {"form": form, "via": bulk_services.bulk_via()}
    )


@sender_required
def bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bulk = get_object_or_404(BulkSend.objects.select_related("created_by"), pk=pk)
    if bulk.status == BulkSend.Status.DRAFT:
        return _preview(request, bulk)
    if request.GET.get("confirm") == "cancel":
        return render(request, "campaigns/bulk_confirm_cancel.html", {"bulk": bulk})
    return render(request, "campaigns/bulk_progress.html", _progress_context(request, bulk))


@sender_required
@require_GET
def bulk_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress and the rows alone, polled by live.js."""
    bulk = get_object_or_404(BulkSend, pk=pk)
    return render(request, "campaigns/_bulk_progress.html", _progress_context(request, bulk))


def _preview(request: HttpRequest, bulk: BulkSend) -> HttpResponse:
    column_form = PhoneColumnForm(
        request.POST if request.POST.get("action") == "column" else None,
        columns=bulk.columns,
        initial={"phone_column": bulk.phone_column},
    )
    confirm_form = ConfirmForm(request.POST if request.POST.get("action") == "confirm" else None)
    if request.method == "POST":
        if column_form.is_bound and column_form.is_valid():
            bulk_services.bulk_change_phone_column(
                bulk=bulk, column=column_form.cleaned_data["phone_column"]
            )
            return redirect("campaigns:bulk-detail", pk=bulk.pk)
        if confirm_form.is_bound and confirm_form.is_valid():
            try:
                started = bulk_services.bulk_confirm(
                    bulk=bulk, send_at=confirm_form.cleaned_data["send_at"]
                )
            except ValidationError as error:
                confirm_form.add_error("send_at", error.message_dict.get("send_at"))
            else:
                if started:
                    messages.success(
                        request, f"Bulk send #{bulk.pk} confirmed: {bulk.valid_count:,} texts."
                    )
                return redirect("campaigns:bulk-detail", pk=bulk.pk)
    to_send = Paginator(selectors.bulk_rows(bulk), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    skipped = Paginator(selectors.bulk_rows(bulk, skipped=True), ROWS_PER_PAGE).get_page(
        request.GET.get("skipped_page")
    )
    return render(
        request,
        "campaigns/bulk_preview.html",
        {
            "bulk": bulk,
            "to_send": to_send,
            "skipped": skipped,
            "estimate": selectors.bulk_estimate(bulk),
            "column_form": column_form,
            "confirm_form": confirm_form,
        },
    )


def _progress_context(request: HttpRequest, bulk: BulkSend) -> dict[str, Any]:
    page = Paginator(selectors.bulk_rows(bulk), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    progress = selectors.bulk_progress(bulk)
    rows = [
        {"row": r, "stage": selectors.row_stage(r), "reason": selectors.row_reason(r)}
        for r in page.object_list
    ]
    version = "|".join(
        [bulk.status, *(f"{s}{n}" for s, n, _ in progress.bar)]
        + [f"{r['row'].pk}{r['stage']}" for r in rows]
    )
    return {
        "bulk": bulk,
        "progress": progress,
        "page": page,
        "rows": rows,
        "version": version,
        "failed_batch": selectors.failed_batch(bulk)
        if bulk.status == BulkSend.Status.PAUSED
        else None,
    }


@sender_required
@require_POST
def bulk_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    bulk = get_object_or_404(BulkSend, pk=pk)
    if action == "pause":
        done = bulk_services.bulk_pause(bulk=bulk)
        said = (
            "paused: nothing more is handed over until you resume (texts already queued still go)"
        )
    elif action == "resume":
        done = bulk_services.bulk_resume(bulk=bulk)
        said = "resumed"
    elif action == "cancel":
        done = bool(bulk_services.bulk_cancel(bulk=bulk)) or bulk.status == BulkSend.Status.CANCELED
        said = "canceled: nothing more goes out"
    else:
        return HttpResponse(status=404)
    if done:
        messages.success(request, f"Bulk send #{bulk.pk} {said}.")
    else:
        messages.error(
            request, f"Bulk send #{bulk.pk} is {bulk.get_status_display()}: nothing to {action}."
        )
    return redirect("campaigns:bulk-detail", pk=bulk.pk)


@sender_required
@require_GET
def bulk_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every line with its outcome, streamed (a big send is not built in memory)."""
    bulk = get_object_or_404(BulkSend, pk=pk)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff"  # Excel reads UTF-8 only with the byte-order mark
        yield writer.writerow(
            ["line", "number", "as_written", "text", "status", "reason", "ringcentral_id"]
        )
        rows = (
            selectors.bulk_rows(bulk)
            .union(selectors.bulk_rows(bulk, skipped=True))
            .order_by("line")
        )
        for row in rows.iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    row.line,
                    row.number,
                    row.raw_number if row.number else _cell(row.raw_number),
                    _cell(row.text),
                    selectors.row_stage(row),
                    _cell(selectors.row_reason(row)),
                    row.ringcentral_id or (row.message.provider_message_id if row.message else ""),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-send-{bulk.pk}-results.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection, OWASP).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value
