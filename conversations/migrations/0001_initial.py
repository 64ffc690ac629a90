# Conversations, inbound texts and how they come in; existing texts get their conversations.

from __future__ import annotations

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery

BATCH = 2000


def conversations_for_existing_texts(apps, schema_editor):
    """One conversation per (sender, recipient) pair already texted, with its latest text:
    the list shows everyone the app has texted, not only those who answer after the upgrade."""
    Message = apps.get_model("smsapp", "Message")
    Conversation = apps.get_model("conversations", "Conversation")
    latest = Message.objects.filter(
        from_number=OuterRef("from_number"), to_number=OuterRef("to_number")
    ).order_by("-created_at", "-id")
    pairs = (
        Message.objects.values("from_number", "to_number")
        .annotate(last_at=Max("created_at"), last_text=Subquery(latest.values("text")[:1]))
        .order_by()
    )
    batch = []
    for pair in pairs.iterator(chunk_size=BATCH):
        batch.append(
            Conversation(
                our_number=pair["from_number"],
                their_number=pair["to_number"],
                last_activity_at=pair["last_at"],
                last_text=(pair["last_text"] or "")[:200],
                last_direction="out",
            )
        )
        if len(batch) >= BATCH:
            Conversation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Conversation.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("smsapp", "0005_history_indexes")]

    operations = [
        migrations.CreateModel(
            name="Conversation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("our_number", models.CharField(help_text="E.164", max_length=20)),
                ("their_number", models.CharField(help_text="E.164", max_length=20)),
                ("last_activity_at", models.DateTimeField()),
                ("last_text", models.CharField(blank=True, max_length=200)),
                ("last_direction", models.CharField(choices=[("in", "received"), ("out", "sent")], max_length=3)),
                ("unread_count", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ("-last_activity_at", "-id"),
                "indexes": [models.Index(fields=["-last_activity_at", "-id"], name="conversation_newest")],
                "constraints": [
                    models.UniqueConstraint(fields=("our_number", "their_number"), name="conversation_one_per_pair")
                ],
            },
        ),
        migrations.CreateModel(
            name="MessageSyncState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sync_token", models.TextField(blank=True)),
                ("synced_until", models.DateTimeField(blank=True, null=True)),
                ("last_run_at", models.DateTimeField(blank=True, null=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("full_syncs", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="WebhookNotification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.CharField(max_length=80, unique=True)),
                ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name="WebhookSubscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.URLField(max_length=500)),
                ("subscription_id", models.CharField(blank=True, max_length=80)),
                ("token_digest", models.CharField(blank=True, max_length=64)),
                ("status", models.CharField(blank=True, help_text="RingCentral's status", max_length=20)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("last_notification_at", models.DateTimeField(blank=True, null=True)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name="InboundText",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ringcentral_id", models.CharField(max_length=40, unique=True)),
                ("from_number", models.CharField(max_length=20)),
                ("to_number", models.CharField(max_length=20)),
                ("text", models.TextField(blank=True)),
                ("received_at", models.DateTimeField(help_text="RingCentral's creationTime")),
                ("stored_at", models.DateTimeField(auto_now_add=True)),
                ("via", models.CharField(choices=[("sync", "message sync"), ("webhook", "webhook")], max_length=8)),
                (
                    "keyword",
                    models.CharField(
                        blank=True,
                        choices=[("", "none"), ("opt_out", "opted out"), ("opt_in", "opted back in")],
                        max_length=8,
                    ),
                ),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE, related_name="inbound", to="conversations.conversation"
                    ),
                ),
            ],
            options={
                "ordering": ("received_at", "id"),
                "indexes": [models.Index(fields=["conversation", "received_at", "id"], name="inbound_thread")],
            },
        ),
        migrations.RunPython(conversations_for_existing_texts, migrations.RunPython.noop, elidable=True),
    ]
