"""The "Staff senders" group: members may compose texts and see the history."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

# A literal, not smsapp.permissions.STAFF_SENDERS_GROUP: a migration is frozen history and
# must create what it created then, whatever the constant says later.
GROUP = "Staff senders"


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this one needs send_sms now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    send = Permission.objects.get(content_type__app_label="smsapp", codename="send_sms")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(send)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("smsapp", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
