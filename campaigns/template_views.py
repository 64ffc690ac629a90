"""Template pages: every sender sees and uses them; managers create, change and delete them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.models import Template
from campaigns.services import templates as template_services
from campaigns.services.templates import MANAGE_TEMPLATES_PERMISSION
from campaigns.template_forms import TemplateForm
from smsapp.views import sender_required

MANAGE_REFUSAL = (
    "You can use templates, but creating, changing and deleting them needs the permission "
    "“Can add, change and delete text templates”. Ask an administrator for it."
)


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A sender (sender_required) who may also manage templates; others get 403."""

    @sender_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(MANAGE_TEMPLATES_PERMISSION):
            raise PermissionDenied(MANAGE_REFUSAL)
        return view(request, *args, **kwargs)

    return wrapped


@sender_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    compose = reverse("smsapp:compose")
    bulk_new = reverse("campaigns:bulk-new")
    rows = [
        {
            "template": template,
            "placeholders": template_services.placeholder_hints(template.text),
            "compose_url": f"{compose}?template={template.pk}",
            "bulk_url": f"{bulk_new}?template={template.pk}",
        }
        for template in template_services.template_list()
    ]
    return render(
        request,
        "campaigns/templates/list.html",
        {"rows": rows, "can_manage": request.user.has_perm(MANAGE_TEMPLATES_PERMISSION)},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = template_services.template_create(
                name=form.cleaned_data["name"], text=form.cleaned_data["text"], by=request.user
            )
        except ValidationError as error:  # the name taken meanwhile, by someone else's save
            form.add_error(None, error)
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect("campaigns:templates")
    return _form_page(request, form, template=None)


@manager_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(Template, pk=pk)
    form = TemplateForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            template_services.template_update(
                template=template,
                name=form.cleaned_data["name"],
                text=form.cleaned_data["text"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect("campaigns:templates")
    return _form_page(request, form, template=template)


@manager_required
@require_http_methods(["GET", "POST"])
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks (a page of its own, so a stray click deletes nothing); POST deletes."""
    template = Template.objects.filter(pk=pk).first()
    if request.method == "GET":
        if template is None:
            raise Http404("No such template: it may have been deleted.")
        return render(
            request,
            "campaigns/templates/confirm_delete.html",
            {"template": template, "bulk_sends": template.bulk_sends.count()},
        )
    if template is None:
        # Two managers deleting at once, or the confirmation sent twice: done either way.
        messages.info(request, "That template had already been deleted.")
    else:
        template_services.template_delete(template=template)
        messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("campaigns:templates")


def _form_page(
    request: HttpRequest, form: TemplateForm, *, template: Template | None
) -> HttpResponse:
    # The placeholders of the text as it stands on the form: the one typed, else the saved one.
    text = form["text"].value() or ""
    return render(
        request,
        "campaigns/templates/form.html",
        {
            "form": form,
            "template": template,
            "placeholders": template_services.placeholder_hints(text),
        },
    )
