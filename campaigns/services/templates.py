"""Saved texts (templates): their rules, every write to them, and the reads the pages need."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from campaigns.models import Template
from campaigns.placeholders import PlaceholderError, column_key, placeholders
from smsapp.validation import validate_each, validate_name, validate_text

# Creating, changing and deleting templates (Template.Meta.permissions); using one needs only
# smsapp.send_sms, like composing.
MANAGE_TEMPLATES_PERMISSION = "campaigns.manage_templates"
NAME_MAX_LENGTH = Template._meta.get_field("name").max_length or 100
NO_NAME = "Give the template a name."
# Placeholders as a single send sees them: compose sends braces as typed ("{{" is two braces
# there), so any {name} left in the text would reach the recipient as it is.
_LEFT_IN_TEXT = re.compile(r"\{([^{}]*)\}")
# A template id as a URL or a form carries it; anything longer is no id (PostgreSQL refuses
# numbers past 64 bits with an error, not an empty answer).
_TEMPLATE_ID = re.compile(r"[0-9]{1,18}", re.ASCII)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaceholderHint:
    """One {placeholder} of a text and the CSV column a bulk send fills it from."""

    name: str

    @property
    def token(self) -> str:
        return "{" + self.name + "}"

    @property
    def column(self) -> str:
        # The header people would write: "first_name" -> "First name". Any spelling that
        # column_key() folds to the same key matches ("first name", "FIRST-NAME").
        words = column_key(self.name).replace("_", " ")
        return words[:1].upper() + words[1:]

    def __str__(self) -> str:
        return f"{self.token}: from the CSV's “{self.column}” column"


# -- rules (the form checks them to show each error beside its field; the services decide) ------


def validate_template_name(name: str, *, exclude: Template | None = None) -> None:
    """`name` (already stripped) is given, fits, and no other template has it. Names differing
    only in capitals count as the same: two templates "Welcome" and "welcome" would be told
    apart by nobody picking one from a list."""
    validate_name(name, missing=NO_NAME, max_length=NAME_MAX_LENGTH)
    others = Template.objects.filter(name__iexact=name)
    if exclude is not None and exclude.pk is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise _name_taken(name)


def validate_template_text(text: str) -> None:
    """Something to say, within RingCentral's length (smsapp.validation, as for one text), and
    braces that are placeholders a bulk send can fill."""
    validate_text(text)
    try:
        placeholders(text)
    except PlaceholderError as error:
        raise ValidationError(
            f"The braces in the text are not placeholders: {error}.", code="bad_placeholder"
        ) from None


def _name_taken(name: str) -> ValidationError:
    return ValidationError(
        f"A template named “{name}” already exists: pick another name, or change that one.",
        code="name_taken",
    )


def _validate(*, name: str, text: str, exclude: Template | None = None) -> None:
    """Both fields' rules at once, each error under its field."""
    validate_each(
        {
            "name": lambda: validate_template_name(name, exclude=exclude),
            "text": lambda: validate_template_text(text),
        }
    )


# -- writes ------------------------------------------------------------------------------------


def template_create(*, name: str, text: str, by: AbstractBaseUser | None) -> Template:
    """A new template. Raises ValidationError (by field) for a name taken, also by someone
    saving the same name at the same moment, an empty or too long text, or bad braces."""
    name = name.strip()
    _validate(name=name, text=text)
    try:
        # A savepoint of its own: a caller's transaction survives the refusal.
        with transaction.atomic():
            template = Template.objects.create(name=name, text=text, created_by=by)
    except IntegrityError:
        # The check above passed, so someone saved this name in between: the unique index
        # decided. Anything else the database refused is not ours to reword.
        if Template.objects.filter(name=name).exists():
            raise ValidationError({"name": [_name_taken(name)]}) from None
        raise
    logger.info("template %s (%r) created by %s", template.pk, template.name, by)
    return template


def template_update(
    *, template: Template, name: str, text: str, by: AbstractBaseUser | None
) -> Template:
    """Rename and reword `template`; the same rules as template_create. A template deleted
    meanwhile is not brought back: that is a ValidationError, not a new row."""
    name = name.strip()
    _validate(name=name, text=text, exclude=template)
    before = template.name, template.text
    template.name, template.text = name, text
    try:
        with transaction.atomic():
            # update_fields: an UPDATE only. A plain save() of a row someone deleted would
            # INSERT it again, undoing their delete.
            template.save(update_fields=("name", "text", "updated_at"))
    except DatabaseError as error:
        template.name, template.text = before  # the object says what the database holds
        if isinstance(error, IntegrityError):
            if Template.objects.filter(name=name).exclude(pk=template.pk).exists():
                raise ValidationError({"name": [_name_taken(name)]}) from None
            raise
        if Template.objects.filter(pk=template.pk).exists():
            raise
        raise ValidationError(
            {NON_FIELD_ERRORS: ["This template was deleted meanwhile: nothing was saved."]}
        ) from error
    logger.info("template %s (%r) changed by %s", template.pk, template.name, by)
    return template


def template_delete(*, template: Template) -> None:
    """Delete `template`. Bulk sends started from it keep their own copy of the text (their
    link to it is cleared, BulkSend.template); deleting one already gone does nothing."""
    pk, name = template.pk, template.name
    Template.objects.filter(pk=pk).delete()
    logger.info("template %s (%r) deleted", pk, name)


# -- reads for the pages -----------------------------------------------------------------------


def template_list() -> list[Template]:
    return list(Template.objects.select_related("created_by"))


def template_choices() -> list[tuple[int, str]]:
    """(id, name) of every template, by name: the compose page's "Start from a template"."""
    return list(Template.objects.values_list("pk", "name"))


def template_find(raw_id: str | None) -> Template | None:
    """The template a URL or a form names (`?template=12`), or None for a missing, malformed
    or deleted one."""
    if not raw_id or not _TEMPLATE_ID.fullmatch(raw_id.strip()):
        return None
    return Template.objects.filter(pk=int(raw_id)).first()


def placeholder_hints(text: str) -> list[PlaceholderHint]:
    """The placeholders `text` uses, in order, with their columns; [] when its braces are
    malformed (the text field's error says why)."""
    try:
        return [PlaceholderHint(name) for name in placeholders(text)]
    except PlaceholderError:
        return []


def validate_placeholders_replaced(text: str, *, template: Template) -> None:
    """A single text started from `template` no longer holds any of its {placeholders}: compose
    sends the text as typed, so "Hi {first_name}" would reach the recipient as just that."""
    try:
        wanted = {column_key(name) for name in placeholders(template.text)}
    except PlaceholderError:  # saved before the rule, or through the shell: nothing to compare
        return
    left = []
    for name in _LEFT_IN_TEXT.findall(text):
        if name.strip() and column_key(name) in wanted and "{" + name + "}" not in left:
            left.append("{" + name + "}")
    if left:
        listed = ", ".join(left)
        them = "it" if len(left) == 1 else "them"
        raise ValidationError(
            f"{listed} from the template “{template.name}” {'is' if len(left) == 1 else 'are'} "
            f"still in the text: replace {them} by hand for this send, or use a bulk send, "
            "which fills each placeholder from a column of a CSV file.",
            code="unreplaced_placeholder",
        )
