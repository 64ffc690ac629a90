"""smsapp/admin.py, opt-outs: the list with its causes, add and remove (with a reason, through the
service) only with manage_optouts, the read-only history, and the CSV export and import."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smsapp import optouts_csv
from smsapp.models import Message, OptOut, OptOutChange
from smsapp.services import optouts
from tests.support.texts import create_texts

pytestmark = pytest.mark.django_db
OURS = "+16505550100"
THEM = "+16505550177"
CHANGELIST = reverse("admin:smsapp_optout_changelist")
ADD = reverse("admin:smsapp_optout_add")
EXPORT = reverse("admin:smsapp_optout_export")
IMPORT = reverse("admin:smsapp_optout_import")


def staff_client(*codenames: str) -> Client:
    user = User.objects.create_user("pat", password="unused-77", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(sms_settings) -> Client:
    return staff_client("manage_optouts")


@pytest.fixture
def viewer(sms_settings) -> Client:
    return staff_client("view_optout")


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def keyword_opt_out(number: str = THEM, words: str = "Stop.") -> OptOut:
    optouts.optout_add(our_number=OURS, their_number=number, source="keyword", inbound_text=words)
    return OptOut.objects.get(their_number=number)


def upload(content: str, **fields) -> dict:
    data = {"our_number": OURS, "reason": "list from the old system"} | fields
    return data | {"file": SimpleUploadedFile("list.csv", content.encode(), "text/csv")}


# -- the list ----------------------------------------------------------------------------------


def test_the_list_shows_each_cause_and_finds_a_number_as_typed(viewer):
    keyword_opt_out()
    keyword_opt_out("+16505550178", "STOP")

    page = viewer.get(CHANGELIST, {"q": "(650) 555-0177"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "texted “Stop.”" in html
    assert "+16505550178" not in html
    assert "Import CSV" not in html  # only for those who may add


def test_an_opt_out_from_a_413_links_to_its_text(admin_client, sms_settings):
    [message] = create_texts(THEM)
    optouts.optout_add(our_number=OURS, their_number=THEM, source="delivery_error", message=message)

    html = admin_client.get(CHANGELIST).content.decode()

    assert reverse("admin:smsapp_message_change", args=[message.pk]) in html


def test_without_the_permission_nobody_adds_or_removes(viewer):
    row = keyword_opt_out()

    assert viewer.get(ADD).status_code == 403
    assert viewer.get(IMPORT).status_code == 403
    response = viewer.post(
        CHANGELIST,
        {
            "action": "remove_optouts",
            "_selected_action": [row.pk],
            "confirmed": "yes",
            "reason": "x",
        },
    )
    assert response.status_code in (200, 302)
    assert OptOut.objects.filter(pk=row.pk).exists()


def test_a_staff_user_without_any_opt_out_permission_sees_nothing(sms_settings):
    client = staff_client("view_message")

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(EXPORT).status_code == 403


# -- add and remove ----------------------------------------------------------------------------


def test_adding_goes_through_the_service_and_cancels_scheduled_texts(manager):
    [scheduled] = create_texts(THEM, send_at=timezone.now() + timedelta(hours=1))

    response = manager.post(
        ADD, {"their_number": "(650) 555-0177", "our_number": OURS, "reason": "asked by phone"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    row = OptOut.objects.get()
    assert (row.their_number, row.source, row.created_by.username) == (THEM, "staff", "pat")
    change = OptOutChange.objects.get()
    assert (change.reason, change.push) == ("asked by phone", OptOutChange.Push.PENDING)
    scheduled.refresh_from_db()
    assert scheduled.status == Message.Status.CANCELED


def test_adding_someone_already_opted_out_says_so(manager):
    keyword_opt_out()

    page = manager.post(ADD, {"their_number": THEM, "our_number": OURS, "reason": "again"})

    assert page.status_code == 200
    assert "already exists" in page.content.decode()
    assert OptOutChange.objects.count() == 1


def test_removing_asks_why_then_keeps_it_in_the_history(manager):
    row = keyword_opt_out()
    chosen = {"action": "remove_optouts", "_selected_action": [row.pk]}

    confirm = manager.post(CHANGELIST, chosen)
    assert confirm.status_code == 200
    assert "Why" in confirm.content.decode()
    assert OptOut.objects.exists()

    no_reason = manager.post(CHANGELIST, chosen | {"confirmed": "yes", "reason": ""})
    assert no_reason.status_code == 200
    assert OptOut.objects.exists()

    done = manager.post(
        CHANGELIST, chosen | {"confirmed": "yes", "reason": "asked for texts again"}, follow=True
    )
    assert f"Removed 1 opt-out: {THEM}." in flash(done)
    assert not OptOut.objects.exists()
    removal = OptOutChange.objects.order_by("-id").first()
    assert (removal.action, removal.reason, removal.by.username) == (
        "opted_in",
        "asked for texts again",
        "pat",
    )


def test_the_history_is_read_only(manager):
    keyword_opt_out()
    change = OptOutChange.objects.get()

    page = manager.get(reverse("admin:smsapp_optoutchange_change", args=[change.pk]))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert manager.get(reverse("admin:smsapp_optoutchange_add")).status_code == 403


# -- export and import -------------------------------------------------------------------------


def test_the_export_lists_every_opt_out_with_its_cause(viewer):
    keyword_opt_out(words='=HYPERLINK("x")')
    optouts.optout_add(our_number="*", their_number="+16505550178", source="ringcentral")

    response = viewer.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0]) == list(optouts_csv.EXPORT_COLUMNS)
    by_number = {row["their_number"]: row for row in rows}
    assert by_number[THEM]["cause"] == 'texted “=HYPERLINK("x")”'
    assert by_number[THEM]["created_at"].endswith("Z")
    assert by_number["+16505550178"]["our_number"] == "*"


def test_an_import_adds_every_row_through_the_service(manager):
    content = "number,reason\n(650) 555-0101,moved away\n+16505550102,\n\n+16505550101,dup\n"

    response = manager.post(IMPORT, upload(content), follow=True)

    assert "Imported 3 rows: 2 opted out now, 1 were already." in flash(response)
    reasons = dict(OptOut.objects.values_list("their_number", "reason"))
    assert reasons == {
        "+16505550101": "moved away",
        "+16505550102": "list from the old system",
    }
    assert set(OptOut.objects.values_list("source", flat=True)) == {"staff"}


def test_an_import_with_a_bad_row_names_each_line_and_imports_nothing(manager):
    content = "number,reason\n+16505550101,ok\n555,bad\n+16505550103,ok\n,empty\n"

    page = manager.post(IMPORT, upload(content))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Nothing was imported" in html
    assert "<td>3</td><td>555</td>" in html
    assert "<td>5</td>" in html
    assert not OptOut.objects.exists()


def test_an_import_without_a_number_column_is_refused(manager):
    page = manager.post(IMPORT, upload("phone number\n+16505550101\n"))

    assert "must name the columns" in page.content.decode()
    assert not OptOut.objects.exists()


def test_an_export_imports_again(manager):
    keyword_opt_out()
    exported = b"".join(manager.get(EXPORT).streaming_content).decode()
    optouts.optout_remove(our_number=OURS, their_number=THEM, source="staff", reason="test")

    manager.post(IMPORT, upload(exported))

    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]


def test_a_file_past_the_row_limit_is_refused_whole(manager, monkeypatch):
    monkeypatch.setattr(optouts_csv, "MAX_IMPORT_ROWS", 3)
    content = "number\n" + "".join(f"+1650555010{i}\n" for i in range(5))

    page = manager.post(IMPORT, upload(content))

    assert "more than 3 rows" in page.content.decode()
    assert not OptOut.objects.exists()
