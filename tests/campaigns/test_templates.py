"""Templates: campaigns/services/templates.py (the rules and every write), the Templates pages
(campaigns/template_views.py) and Compose starting from a template (smsapp.views.compose)."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from campaigns.models import BulkSend, Template
from campaigns.services import templates as template_services
from campaigns.services.templates import PlaceholderHint
from smsapp.forms import ComposeForm
from smsapp.models import Message
from smsapp.permissions import STAFF_SENDERS_GROUP
from tests.support import browser
from tests.support.pages import field_errors, page_text

PASSWORD = "a-long-test-password"
GREETING = "Hi {first_name}, your table for {party size} is ready."


@pytest.fixture
def manager(django_user_model, staff_senders):
    """A sender who may also create, change and delete templates."""
    user = django_user_model.objects.create_user("meg", password=PASSWORD)
    user.groups.add(staff_senders)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="campaigns", codename="manage_templates")
    )
    return user


@pytest.fixture
def manager_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def greeting(manager) -> Template:
    return template_services.template_create(name="Table ready", text=GREETING, by=manager)


def list_url() -> str:
    return reverse("campaigns:templates")


def edit_url(template: Template) -> str:
    return reverse("campaigns:template-edit", args=[template.pk])


def delete_url(template: Template) -> str:
    return reverse("campaigns:template-delete", args=[template.pk])


# -- placeholders, as the pages name them ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("first_name", "{first_name}: from the CSV's “First name” column"),
        ("party size", "{party size}: from the CSV's “Party size” column"),
        ("ORDER-ID", "{ORDER-ID}: from the CSV's “Order id” column"),
    ],
)
def test_a_placeholder_is_shown_with_the_csv_column_it_comes_from(name, shown):
    assert str(PlaceholderHint(name)) == shown


def test_placeholder_hints_are_in_order_of_use_once_each_and_none_for_bad_braces():
    hints = template_services.placeholder_hints("{b} {a} {B} {{literal}}")
    assert [hint.token for hint in hints] == ["{b}", "{a}"]
    assert template_services.placeholder_hints("a lone { brace") == []


# -- the service: the rules, and who decides ---------------------------------------------------


@pytest.mark.django_db
def test_create_strips_the_name_and_records_who_wrote_it(manager):
    template = template_services.template_create(name="  Welcome  ", text="Hello", by=manager)
    template.refresh_from_db()
    assert (template.name, template.text, template.created_by) == ("Welcome", "Hello", manager)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "text", "field", "words"),
    [
        ("", "Hello", "name", "Give the template a name."),
        ("x" * 101, "Hello", "name", "the limit is 100"),
        ("Empty", "   ", "text", "Write a message."),
        ("Long", "a" * 999 + "😀", "text", "1001 characters long"),
        ("Lone", "Hi {first_name", "text", "a lone “{”"),
        ("Empty braces", "Hi {}", "text", "an empty {}"),
    ],
)
def test_create_refuses_a_bad_name_or_text_under_that_field(name, text, field, words):
    with pytest.raises(ValidationError) as refused:
        template_services.template_create(name=name, text=text, by=None)
    assert list(refused.value.message_dict) == [field]
    assert words in " ".join(refused.value.message_dict[field])
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_name_differing_only_in_capitals_is_taken():
    template_services.template_create(name="Welcome", text="Hello", by=None)
    with pytest.raises(ValidationError) as refused:
        template_services.template_create(name="WELCOME", text="Hi", by=None)
    assert refused.value.message_dict == {
        "name": [
            "A template named “WELCOME” already exists: pick another name, or change that one."
        ]
    }


@pytest.mark.django_db
def test_update_keeps_its_own_name_and_refuses_another_templates(greeting):
    other = template_services.template_create(name="Closed", text="We are closed.", by=None)

    template_services.template_update(
        template=greeting, name="TABLE READY", text="Your table is ready.", by=None
    )
    with pytest.raises(ValidationError) as refused:
        template_services.template_update(template=other, name="table ready", text="x", by=None)

    assert "already exists" in refused.value.message_dict["name"][0]
    greeting.refresh_from_db()
    other.refresh_from_db()
    assert (greeting.name, greeting.text) == ("TABLE READY", "Your table is ready.")
    assert (other.name, other.text) == ("Closed", "We are closed.")


@pytest.mark.django_db
def test_an_update_of_a_template_deleted_meanwhile_does_not_bring_it_back(greeting):
    stale = Template.objects.get(pk=greeting.pk)
    template_services.template_delete(template=greeting)

    with pytest.raises(ValidationError) as refused:
        template_services.template_update(template=stale, name="Back", text="Hello", by=None)

    assert "deleted meanwhile" in " ".join(refused.value.messages)
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_deleting_keeps_the_text_of_bulk_sends_started_from_it(greeting):
    bulk = BulkSend.objects.create(
        text=greeting.text, template=greeting, phone_column="Phone", via="pipeline"
    )
    template_services.template_delete(template=greeting)
    template_services.template_delete(template=greeting)  # twice: nothing more happens
    bulk.refresh_from_db()
    assert (bulk.template, bulk.text) == (None, GREETING)


def _wait_for_a_session_blocked_on_a_lock(timeout: float = 10.0) -> None:
    """Until another PostgreSQL session of this database waits on a lock (the second INSERT
    waiting on the first's uncommitted row in the unique index)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction PostgreSQL answers from one snapshot of the statistics.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second save never waited on the first")


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_the_same_name_at_once_get_one_template_and_a_name_error():
    # Both pass the service's "is the name free?" check before either commits: the unique
    # index decides, and the second hears it as an error on "name", not a server error.
    first_inserted = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                template_services.template_create(name="Welcome", text="From the first", by=None)
                first_inserted.set()
                _wait_for_a_session_blocked_on_a_lock()
            outcome["first"] = "saved"
        except BaseException as error:  # reported by the assertion below
            outcome["first"] = error
            first_inserted.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            first_inserted.wait(10)
            template_services.template_create(name="Welcome", text="From the second", by=None)
            outcome["second"] = "saved"
        except ValidationError as error:
            outcome["second"] = error.message_dict
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome == {
        "first": "saved",
        "second": {
            "name": [
                "A template named “Welcome” already exists: pick another name, or change that one."
            ]
        },
    }
    assert list(Template.objects.values_list("text", flat=True)) == ["From the first"]


# -- who may use the pages ---------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_people_are_sent_to_sign_in_from_every_template_page(client, greeting):
    for url in (list_url(), reverse("campaigns:template-new"), edit_url(greeting)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    client.post(delete_url(greeting))
    assert Template.objects.filter(pk=greeting.pk).exists()


@pytest.mark.django_db
def test_signed_in_people_who_may_not_send_get_403_even_with_the_manage_permission(
    client, django_user_model, greeting
):
    user = django_user_model.objects.create_user("visitor", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="manage_templates"))
    client.force_login(user)
    for url in (list_url(), reverse("campaigns:template-new"), edit_url(greeting)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert STAFF_SENDERS_GROUP in response.content.decode(), url


@pytest.mark.django_db
def test_a_sender_sees_and_uses_templates_but_is_offered_no_changes(sender_client, greeting):
    page = sender_client.get(list_url())

    html = page.content.decode()
    words = page_text(page)
    assert "Table ready" in words
    assert GREETING in words
    assert "{first_name}: from the CSV's “First name” column" in words
    assert "{party size}: from the CSV's “Party size” column" in words
    assert "Last changed" in words
    assert f'href="{reverse("smsapp:compose")}?template={greeting.pk}"' in html
    assert f'href="{reverse("campaigns:bulk-new")}?template={greeting.pk}"' in html
    assert reverse("campaigns:template-new") not in html
    assert edit_url(greeting) not in html
    assert delete_url(greeting) not in html


@pytest.mark.django_db
def test_a_sender_without_the_manage_permission_gets_403_and_changes_nothing(
    sender_client, greeting
):
    attempts = [
        ("get", reverse("campaigns:template-new"), {}),
        ("post", reverse("campaigns:template-new"), {"name": "New", "text": "Hi"}),
        ("get", edit_url(greeting), {}),
        ("post", edit_url(greeting), {"name": "Changed", "text": "Hi"}),
        ("get", delete_url(greeting), {}),
        ("post", delete_url(greeting), {}),
    ]
    for method, url, data in attempts:
        response = getattr(sender_client, method)(url, data)
        assert response.status_code == 403, (method, url)
        assert "Can add, change and delete text templates" in page_text(response), (method, url)
    assert list(Template.objects.values_list("name", "text")) == [("Table ready", GREETING)]


@pytest.mark.django_db
def test_a_manager_is_offered_new_edit_and_delete(manager_client, greeting):
    html = manager_client.get(list_url()).content.decode()
    for url in (reverse("campaigns:template-new"), edit_url(greeting), delete_url(greeting)):
        assert f'href="{url}"' in html


# -- creating, changing and deleting through the pages -----------------------------------------


@pytest.mark.django_db
def test_a_manager_creates_a_template_and_lands_on_the_list(manager_client, manager):
    response = manager_client.post(
        reverse("campaigns:template-new"),
        {"name": "Reminder", "text": "See you at {time}, {first name}!"},
        follow=True,
    )

    assert response.redirect_chain == [(list_url(), 302)]
    words = page_text(response)
    assert "Template “Reminder” saved." in words
    assert "{first name}: from the CSV's “First name” column" in words
    template = Template.objects.get()
    assert (template.name, template.text, template.created_by) == (
        "Reminder",
        "See you at {time}, {first name}!",
        manager,
    )


@pytest.mark.django_db
def test_an_empty_form_names_both_missing_fields_beside_them(manager_client):
    response = manager_client.post(reverse("campaigns:template-new"), {"name": " ", "text": ""})

    assert response.status_code == 200
    assert "Give the template a name." in field_errors(response, "name")
    assert "Write a message." in field_errors(response, "text")
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_taken_name_is_refused_beside_the_name_field_and_the_text_kept(manager_client, greeting):
    response = manager_client.post(
        reverse("campaigns:template-new"), {"name": "table READY", "text": "Other words"}
    )

    assert "A template named “table READY” already exists" in field_errors(response, "name")
    assert field_errors(response, "text") == ""
    assert "Other words</textarea>" in response.content.decode()
    assert Template.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hi {first_name", "a lone “{”: write {{ for the character itself"),
        ("Hi first_name}", "a lone “}”: write }} for the character itself"),
        ("Hi {}", "an empty {}: put a column name inside, e.g. {first_name}"),
        ("a" * 1001, "1001 characters long"),
    ],
)
def test_a_text_with_bad_braces_or_too_long_is_refused_beside_the_text_field(
    manager_client, text, words
):
    response = manager_client.post(
        reverse("campaigns:template-new"), {"name": "Broken", "text": text}
    )

    assert words in field_errors(response, "text")
    assert field_errors(response, "name") == ""
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_the_form_lists_the_placeholders_of_the_text_as_typed(manager_client, greeting):
    page = manager_client.get(edit_url(greeting))
    assert "{first_name}: from the CSV's “First name” column" in page_text(page)

    typed = manager_client.post(edit_url(greeting), {"name": "", "text": "Dear {title}"})
    assert "{title}: from the CSV's “Title” column" in page_text(typed)
    assert "{first_name}: from" not in page_text(typed)


@pytest.mark.django_db
def test_a_manager_edits_a_template_and_may_keep_its_name(manager_client, greeting):
    response = manager_client.post(
        edit_url(greeting), {"name": "Table ready", "text": "Your table is ready."}, follow=True
    )

    assert response.redirect_chain == [(list_url(), 302)]
    assert "Template “Table ready” saved." in page_text(response)
    greeting.refresh_from_db()
    assert greeting.text == "Your table is ready."


@pytest.mark.django_db
def test_renaming_to_another_templates_name_is_refused_beside_the_field(manager_client, greeting):
    template_services.template_create(name="Closed", text="We are closed.", by=None)

    response = manager_client.post(edit_url(greeting), {"name": "closed", "text": "Hi"})

    assert "A template named “closed” already exists" in field_errors(response, "name")
    greeting.refresh_from_db()
    assert (greeting.name, greeting.text) == ("Table ready", GREETING)


@pytest.mark.django_db
def test_the_edit_page_of_a_missing_template_is_not_found(manager_client):
    assert manager_client.get(reverse("campaigns:template-edit", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_delete_asks_on_a_page_of_its_own_then_deletes(manager_client, greeting):
    asked = manager_client.get(delete_url(greeting))

    assert "Delete the template “Table ready”?" in page_text(asked)
    assert f'action="{delete_url(greeting)}"' in asked.content.decode()
    assert Template.objects.filter(pk=greeting.pk).exists()

    done = manager_client.post(delete_url(greeting), follow=True)

    assert done.redirect_chain == [(list_url(), 302)]
    assert "Template “Table ready” deleted." in page_text(done)
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_confirming_a_delete_twice_says_it_was_already_deleted(manager_client, greeting):
    manager_client.post(delete_url(greeting))
    again = manager_client.post(delete_url(greeting), follow=True)
    assert again.redirect_chain == [(list_url(), 302)]
    assert "That template had already been deleted." in page_text(again)


# -- Compose, started from a template ----------------------------------------------------------


def compose_url(template_id: object) -> str:
    return f"{reverse('smsapp:compose')}?template={template_id}"


@pytest.mark.django_db
def test_compose_offers_no_templates_when_there_are_none(sender_client):
    page = sender_client.get(reverse("smsapp:compose"))
    assert "Start from a template" not in page_text(page)


@pytest.mark.django_db
def test_compose_from_a_template_fills_the_message_and_names_its_placeholders(
    sender_client, greeting
):
    page = sender_client.get(compose_url(greeting.pk))

    html = page.content.decode()
    words = page_text(page)
    assert f"{GREETING}</textarea>" in html
    assert f'<option value="{greeting.pk}" selected>Table ready</option>' in html
    assert f'<input type="hidden" name="template" value="{greeting.pk}">' in html
    assert "replace each of them in the message by hand" in words
    assert "{first_name}: from the CSV's “First name” column" in words
    assert f'href="{reverse("campaigns:bulk-new")}?template={greeting.pk}"' in html


@pytest.mark.django_db
def test_compose_from_a_template_without_placeholders_asks_for_nothing(sender_client):
    plain = template_services.template_create(name="Closed", text="We are closed.", by=None)
    page = sender_client.get(compose_url(plain.pk))
    assert "We are closed.</textarea>" in page.content.decode()
    assert "by hand" not in page_text(page)


@pytest.mark.django_db
@pytest.mark.parametrize("template_id", ["999999", "abc", "1" * 30, ""])
def test_compose_with_a_missing_or_malformed_template_says_so_and_still_works(
    sender_client, greeting, template_id
):
    page = sender_client.get(compose_url(template_id))

    assert page.status_code == 200
    assert "Send a text" in page_text(page)
    if template_id:
        assert "That template does not exist (any more)" in page_text(page)
    assert GREETING not in page.content.decode()


@pytest.mark.django_db
def test_compose_refuses_a_text_still_holding_the_templates_placeholders_under_message(
    sender_client, greeting
):
    response = sender_client.post(
        reverse("smsapp:compose"),
        {
            "to": "+16505550101",
            "text": "Hi Ana, your table for {Party Size} is ready.",
            "template": str(greeting.pk),
        },
    )

    error = field_errors(response, "text")
    assert "{Party Size} from the template “Table ready” is still in the text" in error
    assert "bulk send" in error
    assert field_errors(response, "to") == ""
    # The page still says where the text came from, so the next Send is checked too.
    assert f'name="template" value="{greeting.pk}"' in response.content.decode()
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_braces_are_refused_only_when_they_are_a_templates_placeholders(greeting):
    def form(text: str, template: Template | None) -> ComposeForm:
        checks = []
        if template is not None:

            def check(text: str) -> None:
                template_services.validate_placeholders_replaced(text, template=template)

            checks.append(check)
        return ComposeForm({"to": "+16505550101", "text": text}, text_checks=checks)

    # Without a template, compose sends braces as before.
    assert form("Your code is {code}", None).is_valid()
    # Other braces than the template's placeholders are the sender's own words.
    assert form("Hi Ana, table for 4 is ready. {see you}", greeting).is_valid()
    assert not form("Hi {first_name}, table for 4 is ready.", greeting).is_valid()


@pytest.mark.django_db
def test_a_text_from_a_template_with_its_placeholders_replaced_is_sent(
    sender_client, greeting, sms_settings
):
    response = sender_client.post(
        reverse("smsapp:compose"),
        {
            "to": "+16505550101",
            "text": "Hi Ana, your table for 4 is ready.",
            "template": str(greeting.pk),
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("smsapp:history")
    assert "1 text queued for sending." in page_text(response)
    assert list(Message.objects.values_list("text", flat=True)) == [
        "Hi Ana, your table for 4 is ready."
    ]


# -- in a browser: a phone's width, and the Content-Security-Policy ----------------------------


@pytest.mark.django_db(transaction=True)
def test_the_template_pages_fit_a_phone_and_keep_to_the_policy(
    chromium, live_server, django_user_model, staff_senders
):
    user = django_user_model.objects.create_user("meg", password=PASSWORD)
    user.groups.add(staff_senders)
    user.user_permissions.add(Permission.objects.get(codename="manage_templates"))
    long_name = "Reservation confirmation for the evening service, with the party's size"
    template = template_services.template_create(name=long_name, text=GREETING, by=user)
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(20_000)
    violations = browser.csp_violations(page)
    browser.sign_in_at(page, live_server.url, "meg", PASSWORD)

    def fits(what: str) -> None:
        page.wait_for_load_state("load")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{what} is {wide} px wide in a 390 px window"

    page.goto(f"{live_server.url}{list_url()}")
    fits("the template list")
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill(long_name.upper())
    page.get_by_label("Text").fill("Hi {first_name")
    page.get_by_role("button", name="Save").click()
    assert page.locator("#id_name_error").is_visible()
    assert page.locator("#id_text_error").is_visible()
    fits("the template form with its errors")
    page.goto(f"{live_server.url}{delete_url(template)}")
    fits("the delete confirmation")
    page.goto(f"{live_server.url}{list_url()}")
    page.get_by_role("link", name="Use in Compose").click()
    assert page.get_by_label("Message").input_value() == GREETING
    fits("compose from a template")
    page.get_by_label("To").fill("+16505550101")
    page.get_by_role("button", name="Send").click()
    assert "still in the text" in page.locator("#id_text_error").inner_text()
    fits("compose refusing the placeholders")
    page.wait_for_timeout(200)  # violation events may follow the load event

    assert violations == []
