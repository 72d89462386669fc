"""``python manage.py outbox``: inspect and operate the transactional outbox.

outbox list [--dead] [--tenant SLUG] [--limit N]   unsent events, oldest first
outbox retry EVENT_ID | --all-dead                 make dead events due again
outbox discard EVENT_ID                            give a dead event up
outbox relay [--metrics-port P]                    run the relay until SIGTERM
"""

from __future__ import annotations

import signal
import threading
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outbox.relay import Relay, RelaySettings, start_metrics_server
from outbox.selectors import outbox_events_list
from outbox.services import OutboxError, outbox_discard, outbox_retry, outbox_retry_all_dead


def _event_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an event id (a UUID)") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise CommandError(f"--limit must be a positive integer; got {value!r}")
    return number


class Command(BaseCommand):
    help = "Inspect the outbox, retry or discard dead events, or run the relay."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        listing = commands.add_parser("list", help="unsent events (pending and dead)")
        listing.add_argument("--dead", action="store_true", help="only dead events")
        listing.add_argument("--tenant", metavar="SLUG", help="only this tenant's events")
        listing.add_argument("--limit", default="50", metavar="N", help="at most N (50)")
        retry = commands.add_parser("retry", help="make a dead event due again")
        retry.add_argument("event_id", nargs="?", metavar="EVENT_ID")
        retry.add_argument("--all-dead", action="store_true", help="every dead event")
        discard = commands.add_parser("discard", help="never publish a dead event")
        discard.add_argument("event_id", metavar="EVENT_ID")
        relay = commands.add_parser("relay", help="run the relay in the foreground")
        relay.add_argument(
            "--metrics-port", type=int, default=settings.PROGRESS_OUTBOX_METRICS_PORT,
            help="Prometheus metrics port (0: none)",
        )  # fmt: skip
        relay.add_argument(
            "--poll", type=float, default=0.2, help="seconds between looks at an idle table"
        )

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except OutboxError as exc:
            raise CommandError(str(exc)) from None

    def _list(self, *, dead: bool, tenant: str | None, limit: str, **_) -> None:
        rows = list(outbox_events_list(dead_only=dead, tenant_slug=tenant, limit=_positive(limit)))
        if not rows:
            self.stdout.write("no dead events" if dead else "no unsent events")
            return
        self.stdout.write(
            f"{'seq':>10}  {'event id':36}  {'state':7}  {'type':19}  {'tenant':12}  "
            f"{'attempts':>8}  {'next try':25}  aggregate key / last error"
        )
        for row in rows:
            next_try = row.next_try_at.isoformat(timespec="seconds") if row.next_try_at else "-"
            self.stdout.write(
                f"{row.seq:>10}  {row.event_id!s:36}  {row.state:7}  {row.event_type:19}  "
                f"{row.tenant_slug:12}  {row.attempts:>8}  {next_try:25}  {row.aggregate_key}"
                + (f"\n{'':>12}{row.last_error[:200]}" if row.last_error else "")
            )

    def _retry(self, *, event_id: str | None, all_dead: bool, **_) -> None:
        if all_dead == (event_id is not None):
            raise CommandError("retry takes either an EVENT_ID or --all-dead")
        if all_dead:
            self.stdout.write(f"{outbox_retry_all_dead()} dead events are due again")
            return
        outbox_retry(event_id=_event_id(event_id))
        self.stdout.write(f"event {event_id} is due again")

    def _discard(self, *, event_id: str, **_) -> None:
        outbox_discard(event_id=_event_id(event_id))
        self.stdout.write(f"event {event_id} discarded")

    def _relay(self, *, metrics_port: int, poll: float, **_) -> None:
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        if metrics_port:
            start_metrics_server(metrics_port)
        relay = Relay(RelaySettings.from_django())
        self.stdout.write(f"relaying to {relay.config.stream} until SIGTERM")
        try:
            while not stopping.is_set():
                result = relay.drain()
                if result.outage:
                    stopping.wait(2.0)
                elif not result.published:
                    stopping.wait(poll)
        finally:
            relay.close()
