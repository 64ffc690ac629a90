"""smsapp/forms.py and send_sms: a send to anyone who opted out is refused up front, naming each of
them and what undoes it, and nothing is created, not even for the other recipients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsapp.forms import ComposeForm
from smsapp.models import Message, OptOut
from smsapp.services import optouts
from tests.support.commands import assert_one_line_failure, run_command

pytestmark = pytest.mark.django_db
OURS = "+16505550100"


@pytest.fixture
def opted_out(sms_settings) -> list[str]:
    numbers = ["+16505550102", "+16505550104"]
    for number in numbers:
        optouts.optout_add(our_number=OURS, their_number=number, source=OptOut.Source.KEYWORD)
    return numbers


def test_the_form_names_every_opted_out_number_under_to_and_what_undoes_it(opted_out):
    form = ComposeForm(data={"to": "+1 650 555 0101, +16505550102\n6505550104", "text": "hi"})

    assert not form.is_valid()
    [error] = form.errors["to"]
    assert "+16505550102, +16505550104" in error
    assert "+16505550101" not in error
    assert "text START" in error
    assert "Can add and remove opt-outs" in error


def test_the_compose_page_creates_nothing_for_anyone_when_one_opted_out(sender_client, opted_out):
    page = sender_client.post(
        reverse("smsapp:compose"), {"to": "+16505550101\n+16505550102", "text": "hi"}
    )

    assert page.status_code == 200
    assert "+16505550102" in page.content.decode()
    assert "opted out" in page.content.decode()
    assert Message.objects.count() == 0


def test_send_sms_fails_in_one_line_naming_the_opted_out_number(opted_out):
    out, _err, error = run_command(
        "send_sms", "--to", "+16505550101", "--to", "+16505550104", "--text", "hi"
    )

    assert_one_line_failure(error, "--to:", "+16505550104", "opted out", "START")
    assert out == ""
    assert Message.objects.count() == 0


def test_an_account_wide_opt_out_refuses_too(sms_settings):
    optouts.optout_add(our_number="*", their_number="+16505550101", source="ringcentral")

    form = ComposeForm(data={"to": "+16505550101", "text": "hi"})

    assert not form.is_valid()
    assert "+16505550101" in form.errors["to"][0]


def test_someone_who_opted_in_again_can_be_texted(opted_out):
    optouts.optout_remove(
        our_number=OURS, their_number="+16505550102", source="keyword", reason="texted START"
    )

    assert ComposeForm(data={"to": "+16505550102", "text": "hi"}).is_valid()


def test_only_a_send_with_other_recipients_is_told_to_remove_the_opted_out_ones(opted_out):
    alone = ComposeForm(data={"to": "+16505550102", "text": "hi"})
    with_others = ComposeForm(data={"to": "+16505550101, +16505550102", "text": "hi"})

    assert not alone.is_valid()
    assert not with_others.is_valid()
    assert "send to the others" not in alone.errors["to"][0]
    assert "Remove it to send to the others." in with_others.errors["to"][0]
