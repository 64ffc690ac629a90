"""Indexes for the history and the admin list at a million texts (docs/scale.md).

Built CONCURRENTLY on PostgreSQL: a plain CREATE INDEX blocks every insert and status change
for as long as it takes to build, which on a big table means a fleet that stops sending during
the deploy. That needs a migration outside a transaction (atomic = False). The single-column
created_at index goes last, once sms_history (which starts with created_at) can serve its
queries. On SQLite (quick local runs only) the b-tree indexes are plain ones and the trigram
index, which SQLite has no equivalent of, is left out.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, GinIndex):
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, GinIndex):
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # Django's own asks pg_extension on any database.
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("smsapp", "0004_idempotency_keys_and_user_time_zone"),
    ]

    operations = [
        # pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database's owner
        # may create it without being a superuser. (Skipped on other databases.)
        TrigramExtensionOnPostgreSQL(),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="message",
            index=models.Index(fields=["created_at", "id"], name="sms_history"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="message",
            index=models.Index(fields=["status", "created_at", "id"], name="sms_history_by_status"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="message",
            index=models.Index(
                fields=["to_number", "created_at", "id"], name="sms_history_by_recipient"
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="message",
            index=models.Index(fields=["from_number"], name="sms_by_sending_number"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="message",
            index=GinIndex(
                fields=["to_number"], name="sms_recipient_digits", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
    ]
