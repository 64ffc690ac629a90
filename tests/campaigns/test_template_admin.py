"""campaigns/admin.py: templates written through their service with the pages' rules, and bulk
sends, their rows and A2P batches to look at, never to change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from campaigns.models import A2PBatch, BulkRecipient, BulkSend, Template
from campaigns.services import templates as template_services

pytestmark = pytest.mark.django_db
READ_ONLY = ("bulksend", "bulkrecipient", "a2pbatch")


@pytest.fixture
def rows(admin_user: User) -> dict[str, object]:
    """One row of each model."""
    template = template_services.template_create(
        name="Table ready", text="Hi {first_name}, your table is ready.", by=admin_user
    )
    bulk = BulkSend.objects.create(
        text=template.text,
        template=template,
        file_name="guests.csv",
        phone_column="Phone",
        via=BulkSend.Via.A2P,
        from_number="+16505550100",
        created_by=admin_user,
    )
    batch = A2PBatch.objects.create(
        bulk=bulk, from_number="+16505550100", size=1, ringcentral_id="rc-batch-1"
    )
    recipient = BulkRecipient.objects.create(
        bulk=bulk,
        line=2,
        number="+16505550101",
        text="Hi Ana, your table is ready.",
        status=BulkRecipient.Status.BATCHED,
        batch=batch,
    )
    return {"template": template, "bulksend": bulk, "a2pbatch": batch, "bulkrecipient": recipient}


def staff_user(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="unused-77", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize("model", ["template", *READ_ONLY])
def test_a_superuser_sees_each_list_and_each_row(admin_client: Client, rows, model):
    row = rows[model]
    change = reverse(f"admin:campaigns_{model}_change", args=[row.pk])
    changelist = admin_client.get(reverse(f"admin:campaigns_{model}_changelist"))
    detail = admin_client.get(change)
    assert changelist.status_code == 200
    assert f'href="{change}' in changelist.content.decode()
    assert detail.status_code == 200


def test_the_template_list_shows_its_placeholders(admin_client: Client, rows):
    page = admin_client.get(reverse("admin:campaigns_template_changelist")).content.decode()
    assert "{first_name}" in page


@pytest.mark.parametrize("model", READ_ONLY)
def test_bulk_rows_can_be_filtered_by_status_but_not_added_changed_or_deleted(
    admin_client: Client, rows, model
):
    row = rows[model]
    changelist = admin_client.get(
        reverse(f"admin:campaigns_{model}_changelist"), {"status__exact": row.status}
    )
    html = changelist.content.decode()
    assert changelist.status_code == 200
    assert "By status" in html
    assert reverse(f"admin:campaigns_{model}_add") not in html
    assert 'value="delete_selected"' not in html
    assert admin_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    assert (
        admin_client.post(reverse(f"admin:campaigns_{model}_delete", args=[row.pk])).status_code
        == 403
    )
    assert type(row).objects.filter(pk=row.pk).exists()


def test_admin_adds_a_template_with_the_pages_rules_and_records_who(
    admin_client: Client, admin_user: User, rows
):
    add = reverse("admin:campaigns_template_add")

    refused = admin_client.post(add, {"name": "TABLE READY", "text": "Hi {first_name"})
    saved = admin_client.post(add, {"name": "Closed", "text": "We are closed."}, follow=True)

    html = refused.content.decode()
    assert "A template named “TABLE READY” already exists" in html
    assert "a lone “{”" in html
    assert saved.status_code == 200
    closed = Template.objects.get(name="Closed")
    assert (closed.text, closed.created_by) == ("We are closed.", admin_user)


def test_admin_changes_and_deletes_a_template(admin_client: Client, rows):
    template = rows["template"]
    admin_client.post(
        reverse("admin:campaigns_template_change", args=[template.pk]),
        {"name": "Table ready", "text": "Your table is ready."},
    )
    template.refresh_from_db()
    assert template.text == "Your table is ready."

    admin_client.post(
        reverse("admin:campaigns_template_delete", args=[template.pk]), {"post": "yes"}
    )
    assert not Template.objects.exists()
    rows["bulksend"].refresh_from_db()
    assert rows["bulksend"].template is None


def test_staff_who_may_send_read_templates_but_only_managers_change_them(rows):
    template = rows["template"]
    reader, manager = Client(), Client()
    reader.force_login(staff_user("reader", "send_sms"))
    manager.force_login(staff_user("manager", "send_sms", "manage_templates"))
    change = reverse("admin:campaigns_template_change", args=[template.pk])
    edit = {"name": "Renamed", "text": "Hello"}

    assert reader.get(change).status_code == 200
    assert reader.get(reverse("admin:campaigns_template_add")).status_code == 403
    reader.post(change, edit)
    template.refresh_from_db()
    assert template.name == "Table ready"

    manager.post(change, edit)
    template.refresh_from_db()
    assert template.name == "Renamed"
