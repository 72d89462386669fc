"""Operating the outbox: the ``outbox`` command's input checks and the admin (read-only
for support staff; retry and discard of dead events for superusers only)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from outbox.models import OutboxRecord
from outbox.services import shard_of

URL = "/admin/outbox/outboxrecord/"


def record(key="attempt:1", **fields) -> OutboxRecord:
    defaults = {
        "event_id": uuid.uuid4(), "event_type": "attempt.started", "schema_version": 1,
        "tenant_id": 7, "tenant_slug": "acme", "aggregate_key": key, "shard": shard_of(key),
        "payload": '{"attempt_id": "x"}',
    }  # fmt: skip
    return OutboxRecord.objects.create(**(defaults | fields))


def dead(key="attempt:dead") -> OutboxRecord:
    return record(key, attempts=3, dead_at=timezone.now(), last_error="JetStream rejected it")


def command(*args) -> str:
    out = io.StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("retry", "not-a-uuid"), "is not an event id"),
        (("discard", "42"), "is not an event id"),
        (("retry",), "either an EVENT_ID or --all-dead"),
        (("retry", str(uuid.uuid4()), "--all-dead"), "either an EVENT_ID or --all-dead"),
        (("retry", "00000000-0000-0000-0000-000000000000"), "no outbox event"),
        (("discard", "00000000-0000-0000-0000-000000000000"), "no outbox event"),
        (("list", "--limit", "0"), "--limit must be a positive integer"),
        (("list", "--limit", "many"), "--limit must be a positive integer"),
        (("replay",), "invalid choice"),
        ((), "required"),
    ],
)
def test_bad_command_input_is_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        command(*args)


@pytest.mark.django_db
def test_sent_and_pending_events_are_not_retried_or_discarded_by_mistake():
    sent = record(sent_at=timezone.now())
    pending = record("attempt:2")
    with pytest.raises(CommandError, match="already sent"):
        command("retry", str(sent.event_id))
    with pytest.raises(CommandError, match="is pending"):
        command("discard", str(pending.event_id))
    assert command("list", "--dead").strip() == "no dead events"


@pytest.mark.django_db
def test_list_filters_by_tenant_and_limits():
    for index in range(5):
        record(f"attempt:{index}")
    other = record("attempt:other", tenant_slug="globex")
    listed = command("list", "--tenant", "globex")
    assert str(other.event_id) in listed
    assert "attempt:0" not in listed
    assert len(command("list", "--limit", "2").strip().splitlines()) == 3  # header + 2


@pytest.mark.django_db
def test_support_staff_list_filter_and_search_outbox_events(support):
    gone = dead()
    waiting = record("attempt:waiting")
    page = support.get(URL, {"state": "dead"}).content.decode()
    assert "attempt:dead" in page
    assert "attempt:waiting" not in page
    assert "attempt:waiting" in support.get(URL, {"q": "attempt:waiting"}).content.decode()
    by_id = support.get(URL, {"q": str(gone.event_id)}).content.decode()
    assert "attempt:dead" in by_id
    assert "attempt:waiting" not in by_id
    assert (
        support.get(URL, {"event_type": "attempt.started", "tenant_slug": "acme"}).status_code
        == 200
    )
    detail = support.get(f"{URL}{waiting.pk}/change/")
    assert detail.status_code == 200
    assert "attempt_id" in detail.content.decode()


@pytest.mark.django_db
def test_support_staff_can_neither_retry_nor_discard_nor_edit(support):
    gone = dead()
    for action in ("retry_dead", "discard_dead"):
        support.post(URL, {"action": action, "_selected_action": [gone.pk]})
    gone.refresh_from_db()
    assert gone.state == "dead"
    assert support.post(f"{URL}{gone.pk}/delete/", {"post": "yes"}).status_code == 403
    assert support.get(f"{URL}add/").status_code == 403
    assert "retry_dead" not in support.get(URL).content.decode()


@pytest.mark.django_db
def test_superusers_retry_and_discard_dead_events_only(settings):
    settings.PROGRESS_OUTBOX_NUDGE_DEBOUNCE = 3600.0  # no task for the broker
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(admin)
    retried, discarded, pending = dead("attempt:a"), dead("attempt:b"), record("attempt:c")
    client.post(URL, {"action": "retry_dead", "_selected_action": [retried.pk, pending.pk]})
    client.post(URL, {"action": "discard_dead", "_selected_action": [discarded.pk]})
    for row in (retried, discarded, pending):
        row.refresh_from_db()
    assert (retried.state, retried.attempts) == ("pending", 0)
    assert discarded.state == "discarded"
    assert pending.state == "pending"
