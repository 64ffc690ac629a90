"""Recurring sends: their rules, and every change to one (create, edit, pause, resume)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Template
from campaigns.services.templates import validate_placeholders_replaced
from recurring import rules
from recurring.models import RecurringSend
from smsapp.middleware import zone_named
from smsapp.services.optouts import validate_not_opted_out
from smsapp.validation import (
    is_submission_key,
    validate_each,
    validate_recipients,
    validate_text,
)
from smsapp.validation import validate_name as validate_required_name

NAME_MAX_LENGTH = RecurringSend._meta.get_field("name").max_length or 100
NO_NAME = "Give the recurring send a name (what it is for, e.g. “On-call reminder”)."

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecurringFields:
    """What a person decides about a recurring send: the form's cleaned data, or a command's."""

    name: str
    to_numbers: Sequence[str]
    text: str
    kind: str
    time_of_day: time
    time_zone: str
    starts_on: date
    ends_on: date | None = None
    weekdays: Sequence[int] = field(default=())
    month_day: int | None = None
    rrule: str = ""
    template: Template | None = None

    def spec(self) -> rules.RuleSpec:
        return rules.RuleSpec(
            kind=self.kind,
            time_of_day=self.time_of_day.replace(microsecond=0),
            time_zone=self.time_zone,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            weekdays=tuple(self.weekdays) if self.kind == rules.WEEKLY else (),
            month_day=self.month_day if self.kind == rules.MONTHLY else None,
            rrule=rules.clean_rrule(self.rrule) if self.kind == rules.RRULE else "",
        )


# -- rules (the form checks them to show each error beside its field; the services decide) ------


def validate_name(name: str) -> None:
    validate_required_name(name, missing=NO_NAME, max_length=NAME_MAX_LENGTH)


def validate_time_zone(name: str) -> None:
    if zone_named(name) is None:
        raise ValidationError(
            f"“{name}” is not a time zone this app knows: pick one from the list "
            "(an IANA name such as America/New_York).",
            code="bad_zone",
        )


def rule_field(kind: str) -> str:
    """The form field a rule's error belongs beside."""
    return {rules.WEEKLY: "weekdays", rules.MONTHLY: "month_day", rules.RRULE: "rrule"}.get(
        kind, "kind"
    )


def validate_rule(spec: rules.RuleSpec, *, now: datetime | None = None) -> None:
    """The rule is usable and fires at least once from now: a ValidationError by field."""
    if spec.ends_on is not None and spec.ends_on < spec.starts_on:
        raise ValidationError({"ends_on": ["The end date is before the start date."]})
    try:
        rules.validate_spec(spec, now=now or timezone.now())
    except rules.RuleError as error:
        field_name = "ends_on" if "never fires" in str(error) else rule_field(spec.kind)
        raise ValidationError({field_name: [str(error)]}) from None


def validate_fields(fields: RecurringFields, *, now: datetime | None = None) -> None:
    """Every rule of a recurring send at once, each error under its field."""
    checks: dict[str, Callable[[], None]] = {
        "name": lambda: validate_name(fields.name.strip()),
        "to": lambda: validate_recipients(list(fields.to_numbers)),
        "text": lambda: _validate_text(fields),
        "time_zone": lambda: validate_time_zone(fields.time_zone),
    }
    errors: dict[str, list[ValidationError]] = {}
    try:
        validate_each(checks)
    except ValidationError as error:
        errors = dict(error.error_dict)
    if "time_zone" not in errors:
        try:
            validate_rule(fields.spec(), now=now)
        except ValidationError as error:
            errors.update(error.error_dict)
    if "to" not in errors:
        # A number that opted out is refused now, by name, rather than left out at every send.
        try:
            validate_not_opted_out(our_number=settings.SMS_FROM_NUMBER, numbers=fields.to_numbers)
        except ValidationError as error:
            errors["to"] = error.error_list
    if errors:
        raise ValidationError(errors)


def _validate_text(fields: RecurringFields) -> None:
    validate_text(fields.text)
    if fields.template is not None:
        # Nothing fills a placeholder here: "Hi {first_name}" would go out as written.
        validate_placeholders_replaced(fields.text, template=fields.template)


# -- writes ------------------------------------------------------------------------------------


def recurring_send_create(
    *,
    fields: RecurringFields,
    by: AbstractBaseUser | None,
    key: str | None = None,
    now: datetime | None = None,
) -> RecurringSend:
    """A new, active recurring send owned by `by`; it fires first at its next time from `now`
    (times before now are not made up for). Raises ValidationError by field.

    `key`: the form's idempotency key. Once a send was created with it, the same key returns
    that one and creates nothing (also for two posts at the same moment: a unique index)."""
    now = now or timezone.now()
    key = key if is_submission_key(key) else None
    if key and (earlier := RecurringSend.objects.filter(creation_key=key).first()):
        return earlier
    validate_fields(fields, now=now)
    recurring = RecurringSend(created_by=by, creation_key=key or "")
    _apply(recurring, fields)
    recurring.next_occurrence_at = rules.next_occurrence(recurring.spec(), now)
    try:
        with transaction.atomic():
            recurring.save()
    except IntegrityError:
        if key and (earlier := RecurringSend.objects.filter(creation_key=key).first()):
            return earlier
        raise
    logger.info("recurring send %s (%r) created by %s", recurring.pk, recurring.name, by)
    return recurring


def recurring_send_update(
    *,
    recurring: RecurringSend,
    fields: RecurringFields,
    by: AbstractBaseUser | None,
    now: datetime | None = None,
) -> RecurringSend:
    """Change `recurring`; it fires next at the new rule's next time from now. A time already
    turned into texts is not turned again (Occurrence's unique key)."""
    now = now or timezone.now()
    validate_fields(fields, now=now)
    with transaction.atomic():
        # Waits for a materialiser working on this rule: the cursor set here is the last word.
        locked = _locked(recurring)
        _apply(locked, fields)
        locked.next_occurrence_at = rules.next_occurrence(locked.spec(), now)
        locked.save()
    _copy(locked, recurring)
    logger.info("recurring send %s (%r) changed by %s", recurring.pk, recurring.name, by)
    return recurring


def recurring_send_pause(*, recurring: RecurringSend, by: AbstractBaseUser | None) -> bool:
    """Stop making texts until resumed; texts already made (scheduled within the next
    seconds) are ordinary texts, canceled from History. False if it was paused already."""
    with transaction.atomic():
        locked = _locked(recurring)
        if locked.paused:
            _copy(locked, recurring)
            return False
        locked.paused = True
        locked.save(update_fields=("paused", "updated_at"))
    _copy(locked, recurring)
    logger.info("recurring send %s paused by %s", recurring.pk, by)
    return True


def recurring_send_resume(
    *, recurring: RecurringSend, by: AbstractBaseUser | None, now: datetime | None = None
) -> bool:
    """Fire again from the next time after now: the times that passed while it was paused are
    not sent (nor recorded: nobody missed them). False if it was not paused."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(recurring)
        if not locked.paused:
            _copy(locked, recurring)
            return False
        locked.paused = False
        locked.next_occurrence_at = rules.next_occurrence(locked.spec(), now)
        locked.save(update_fields=("paused", "next_occurrence_at", "updated_at"))
    _copy(locked, recurring)
    logger.info("recurring send %s resumed by %s", recurring.pk, by)
    return True


def _locked(recurring: RecurringSend) -> RecurringSend:
    found = RecurringSend.objects.select_for_update().filter(pk=recurring.pk).first()
    if found is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: ["This recurring send was deleted meanwhile: nothing was saved."]}
        )
    return found


def _apply(recurring: RecurringSend, fields: RecurringFields) -> None:
    spec = fields.spec()
    recurring.name = fields.name.strip()
    recurring.to_numbers = list(dict.fromkeys(fields.to_numbers))
    recurring.text = fields.text
    recurring.template = fields.template
    recurring.kind = spec.kind
    recurring.weekdays = sorted(set(spec.weekdays))
    recurring.month_day = spec.month_day
    recurring.rrule = spec.rrule
    recurring.time_of_day = spec.time_of_day
    recurring.time_zone = spec.time_zone
    recurring.starts_on = spec.starts_on
    recurring.ends_on = spec.ends_on


def _copy(source: RecurringSend, target: RecurringSend) -> None:
    """The caller's object says what the database holds."""
    if source is not target:
        target.__dict__.update(
            {f.attname: getattr(source, f.attname) for f in RecurringSend._meta.concrete_fields}
        )
