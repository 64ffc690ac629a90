"""Bulk sends from a CSV: one row per line with its number and words or why not, all or
nothing; confirm once; cancel what has not gone out."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import BulkRecipient, BulkSend
from campaigns.services.bulk import (
    bulk_cancel,
    bulk_change_phone_column,
    bulk_confirm,
    bulk_create_from_csv,
)
from harness.contacts import TEXT, contacts_csv, e164
from smsapp.models import OptOut
from smsapp.services.optouts import optout_add

pytestmark = pytest.mark.django_db
Row = BulkRecipient.Status


@pytest.fixture
def pipeline(settings):
    settings.SMS_FROM_NUMBER = "+16505550100"
    settings.SMS_A2P_FROM_NUMBER = ""
    settings.SMS_DEFAULT_REGION = "US"
    return settings


def upload(data: bytes, text: str = TEXT, **kwargs) -> BulkSend:
    return bulk_create_from_csv(
        file=io.BytesIO(data), file_name="list.csv", text=text, created_by=None, **kwargs
    )


def test_500_lines_with_10_bad_ones_make_490_texts_and_say_why_for_each_other(pipeline):
    bulk = upload(contacts_csv(500, bad=10))
    assert (bulk.row_count, bulk.valid_count) == (500, 490)
    rows = BulkRecipient.objects.filter(bulk=bulk)
    assert rows.filter(status=Row.PENDING).count() == 490
    reasons = sorted(rows.filter(status=Row.SKIPPED).values_list("skip_reason", flat=True))
    assert len(reasons) == 10
    assert sum("is not a phone number" in r for r in reasons) == 4
    assert sum(r == "the same number as line 2" for r in reasons) == 3
    assert sum(r == "empty {first_name}" for r in reasons) == 3
    first = rows.get(line=2)
    assert first.number == e164(0)
    assert (
        first.text
        == "Hi Ana, a reminder of your appointment on Dec 1 at 9:00. Reply STOP to opt out."
    )
    assert bulk.segment_count == sum(
        rows.filter(status=Row.PENDING).values_list("segments", flat=True)
    )
    assert bulk.via == BulkSend.Via.PIPELINE


def test_an_opted_out_number_is_listed_as_not_sent(pipeline):
    optout_add(
        our_number="+16505550100", their_number=e164(3), source=OptOut.Source.STAFF, reason="asked"
    )
    bulk = upload(contacts_csv(10))
    row = BulkRecipient.objects.get(bulk=bulk, number=e164(3))
    assert (row.status, row.skip_reason) == (Row.SKIPPED, "opted out (texted STOP)")
    assert bulk.valid_count == 9


def test_a_text_naming_a_column_the_file_lacks_is_refused_and_nothing_is_kept(pipeline):
    with pytest.raises(ValidationError) as error:
        upload(contacts_csv(5), text="Hi {first_name}, your {pet} is ready")
    assert "no column for {pet}" in error.value.message_dict["text"][0]
    assert "{first_name}" in error.value.message_dict["text"][0]
    assert not BulkSend.objects.exists()


def test_a_file_over_the_bulk_cap_is_refused_whole(pipeline):
    pipeline.SMS_MAX_BULK_RECIPIENTS = 100
    with pytest.raises(ValidationError, match="more than 100 lines"):
        upload(contacts_csv(101))
    assert not BulkSend.objects.exists()
    assert not BulkRecipient.objects.exists()


def test_another_phone_column_works_every_line_out_again(pipeline):
    data = b"Name,Home,Mobile\nAna,6505550101,6505550201\nBo,,6505550202\n"
    bulk = upload(data, text="Hi {name}", phone_column="Home")
    assert bulk.valid_count == 1
    bulk = bulk_change_phone_column(bulk=bulk, column="Mobile")
    assert bulk.valid_count == 2
    assert list(BulkRecipient.objects.filter(bulk=bulk).values_list("number", flat=True)) == [
        "+16505550201",
        "+16505550202",
    ]


def test_confirming_twice_starts_it_once(pipeline):
    bulk = upload(contacts_csv(3))
    assert bulk_confirm(bulk=bulk) is True
    assert bulk_confirm(bulk=bulk) is False
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.RUNNING


def test_with_an_a2p_number_the_send_goes_out_in_batches_from_it(pipeline):
    pipeline.SMS_A2P_FROM_NUMBER = "+16505550120"
    bulk = upload(contacts_csv(3))
    assert (bulk.via, bulk.from_number) == (BulkSend.Via.A2P, "+16505550120")


def test_cancel_before_anything_went_out_cancels_every_line(pipeline):
    bulk = upload(contacts_csv(20))
    bulk_confirm(bulk=bulk)
    assert bulk_cancel(bulk=bulk) == 20
    assert not BulkRecipient.objects.filter(bulk=bulk, status=Row.PENDING).exists()
    assert bulk_cancel(bulk=bulk) == 0
