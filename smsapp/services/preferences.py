"""A person's own settings: the time zone their pages use."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from smsapp.middleware import zone_named
from smsapp.models import UserPreferences


def user_preferences(*, user: AbstractBaseUser) -> UserPreferences:
    """Their saved preferences, or the defaults (unsaved) if they never changed any."""
    return UserPreferences.objects.filter(user=user).first() or UserPreferences(user=user)


def user_time_zone_set(*, user: AbstractBaseUser, time_zone: str) -> UserPreferences:
    """Show and read `user`'s times in `time_zone` (an IANA name), or in their browser's
    zone when it is ""."""
    if time_zone and zone_named(time_zone) is None:
        raise ValidationError({"time_zone": [f"“{time_zone}” is not a time zone this app knows."]})
    preferences, _ = UserPreferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    return preferences
