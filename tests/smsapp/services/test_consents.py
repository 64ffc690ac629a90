"""smsapp/services/optouts.py and RingCentral's consent list: staff changes pushed, RingCentral's
opt-outs pulled, and a 403 recorded while the local list goes on working; against the
simulator's consents API over HTTP."""

from __future__ import annotations

import pytest

from auth_tokens.api import ringcentral_request
from smsapp import tasks
from smsapp.models import OptOut, OptOutChange
from smsapp.services import optouts
from tests.support.commands import run

pytestmark = pytest.mark.django_db
Source = OptOut.Source
Push = OptOutChange.Push
OURS = "+16505550100"  # the simulator user's SMS number
THEM = "+16505550177"


def ringcentral_lists(simulator) -> set[tuple[str, str]]:
    """The (from, to) pairs RingCentral (the simulator) has opted out."""
    return {(r["from"], r["to"]) for r in simulator.opt_outs()}


def staff(action, number: str = THEM, our_number: str = OURS, **kwargs) -> bool:
    return action(
        our_number=our_number,
        their_number=number,
        source=Source.STAFF,
        reason=kwargs.pop("reason", "asked by phone"),
        **kwargs,
    )


# -- pull --------------------------------------------------------------------------------------


def test_a_stop_texted_to_ringcentral_is_pulled_into_the_list(sms_settings, simulator):
    simulator.inbound(THEM, "Stop")

    result = optouts.consents_sync()

    assert (result.added, result.removed) == (1, 0)
    row = OptOut.objects.get()
    assert (row.our_number, row.their_number, row.source) == (OURS, THEM, Source.RINGCENTRAL)
    assert "Recipient" in row.reason
    assert optouts.consents_access().state == "allowed"
    assert optouts.consents_sync().added == 0  # nothing new the second time


def test_every_page_of_the_list_is_read(sms_settings, simulator, monkeypatch):
    monkeypatch.setattr(optouts, "CONSENTS_PAGE_SIZE", 2)
    people = [f"+1650555017{i}" for i in range(5)]
    for number in people:
        simulator.inbound(number, "STOP")

    assert optouts.consents_sync().listed == 5

    assert sorted(OptOut.objects.values_list("their_number", flat=True)) == people


def test_an_account_wide_opt_out_is_kept_as_every_number(sms_settings, simulator):
    body = {"records": [{"from": "*", "to": THEM, "optStatus": "OptOut", "source": "Api"}]}
    assert ringcentral_request("PATCH", optouts.CONSENTS_PATH, json=body).status_code == 200

    optouts.consents_sync()

    assert OptOut.objects.get().our_number == "*"
    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]


def test_an_opt_out_ringcentral_dropped_is_removed_here_with_a_reason(sms_settings, simulator):
    simulator.inbound(THEM, "STOP")
    optouts.consents_sync()
    simulator.inbound(THEM, "START")

    assert optouts.consents_sync().removed == 1

    assert not OptOut.objects.exists()
    change = OptOutChange.objects.order_by("-id").first()
    assert (change.action, change.source) == ("opted_in", Source.RINGCENTRAL)
    assert "No longer on RingCentral's opt-out list" in change.reason


def test_opt_outs_of_our_own_evidence_stay_when_ringcentral_does_not_list_them(
    sms_settings, simulator
):
    optouts.optout_add(our_number=OURS, their_number=THEM, source=Source.DELIVERY_ERROR)
    optouts.optout_add(our_number=OURS, their_number="+16505550178", source=Source.KEYWORD)

    assert optouts.consents_sync().removed == 0

    assert OptOut.objects.count() == 2


# -- push --------------------------------------------------------------------------------------


def test_a_staff_opt_out_and_its_removal_reach_ringcentral(sms_settings, simulator, admin_user):
    staff(optouts.optout_add, by=admin_user)

    assert optouts.consents_push() == 1

    assert ringcentral_lists(simulator) == {(OURS, THEM)}
    assert OptOutChange.objects.get().push == Push.DONE

    staff(optouts.optout_remove, reason="asked for texts again", by=admin_user)
    optouts.consents_push()

    assert ringcentral_lists(simulator) == set()
    assert set(OptOutChange.objects.values_list("push", flat=True)) == {Push.DONE}


def test_keyword_and_delivery_error_opt_outs_are_not_pushed(sms_settings, simulator):
    optouts.optout_add(our_number=OURS, their_number=THEM, source=Source.KEYWORD)
    optouts.optout_add(our_number=OURS, their_number="+16505550178", source="delivery_error")

    assert optouts.consents_push() == 0

    assert ringcentral_lists(simulator) == set()


def test_a_staff_removal_not_yet_pushed_is_not_undone_by_a_pull(sms_settings, simulator):
    simulator.inbound(THEM, "STOP")
    optouts.consents_sync()
    staff(optouts.optout_remove, reason="asked for texts again")

    optouts.consents_sync()  # RingCentral still lists them: the push has not run

    assert not OptOut.objects.exists()
    tasks.sync_consents()  # push first, then pull
    assert not OptOut.objects.exists()
    assert ringcentral_lists(simulator) == set()


def test_a_record_ringcentral_refuses_is_marked_and_not_retried(sms_settings, simulator):
    staff(optouts.optout_add, our_number="+16505550111")  # not a number of the account

    optouts.consents_push()

    assert OptOutChange.objects.get().push == Push.FAILED
    assert optouts.consents_push() == 0


# -- not allowed -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["CMN-401", "CMN-408"])
def test_a_403_is_recorded_and_the_local_list_goes_on(sms_settings, simulator, code):
    simulator.configure(consents_allowed=False, consents_denied_code=code)
    staff(optouts.optout_add)

    assert tasks.sync_consents().startswith("not synced")

    access = optouts.consents_access()
    assert (access.state, access.code) == ("not_allowed", code)
    assert access.at is not None
    assert "kept in this app only" in access.sentence()
    assert OptOutChange.objects.get().push == Push.PENDING  # pushed once it is allowed
    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]

    simulator.configure(consents_allowed=True)
    tasks.sync_consents()
    assert optouts.consents_access().state == "allowed"
    assert ringcentral_lists(simulator) == {(OURS, THEM)}


def test_nothing_is_asked_of_ringcentral_when_texts_do_not_go_through_it(sms_settings, simulator):
    sms_settings.SMS_BACKEND = "locmem"
    simulator.inbound(THEM, "STOP")

    assert optouts.consents_sync() == optouts.ConsentsSync()
    assert optouts.consents_access().state == "unknown"


def test_ringcentral_check_says_whether_the_consents_api_is_allowed(sms_settings, simulator):
    out, _error = run("ringcentral_check")
    assert "Opt-outs: RingCentral's Consents API is allowed for this app" in out

    simulator.configure(consents_allowed=False)
    out, _error = run("ringcentral_check")
    [line] = [line for line in out.splitlines() if line.startswith("Opt-outs:")]
    assert "is not allowed for this app (CMN-401)" in line
    assert "opt-outs are kept in this app only" in line
