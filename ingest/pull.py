"""Fetching a batch from a JetStream pull consumer with one request and a callback.

nats-py's ``PullSubscription.fetch`` hands each delivered message over through
``Subscription.next_msg``, which arms a timer, creates a task and draws a ``uuid4`` per
message: measured on the ingest path, the event loop's share of the consumer's CPU was
close to half. Here one pull request asks for the whole batch and a plain subscription
callback collects the deliveries, returning as soon as the batch is full, the server says
there is no more (a status message), or the wait is over. Messages are ordinary nats-py
``Msg`` objects: ``ack()``, ``in_progress()`` and ``metadata`` work as usual.

A delivery that arrives after its fetch returned (a late answer to an expired request)
simply joins the next batch; it is a valid delivery either way.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson

_STATUS = "Status"
_HEARTBEAT = "100"


class BatchPuller:
    def __init__(self, nc, *, stream: str, durable: str) -> None:
        self._nc = nc
        self._subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._subscription = None
        self._batch: list = []
        self._wanted = 0
        self._done = asyncio.Event()

    async def start(self) -> None:
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._deliver)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    async def _deliver(self, msg) -> None:
        headers = msg.headers
        status = headers.get(_STATUS) if headers else None
        if status:
            # 404 no messages, 408 request expired, 409 consumer limits or changes: this
            # request is over. 100 is an idle heartbeat.
            if status != _HEARTBEAT:
                self._done.set()
            return
        self._batch.append(msg)
        if len(self._batch) >= self._wanted:
            self._done.set()

    async def fetch(self, batch: int, *, timeout: float) -> list:
        """Up to ``batch`` messages, waiting at most ``timeout`` seconds for them."""
        if len(self._batch) >= batch:
            taken, self._batch = self._batch[:batch], self._batch[batch:]
            return taken
        self._wanted = batch
        self._done.clear()
        request = {"batch": batch - len(self._batch), "expires": int(timeout * 1e9)}
        await self._nc.publish(self._subject, orjson.dumps(request), reply=self._inbox)
        # The server ends the request itself at ``timeout`` (status 408). Its answer is
        # not waited for long: now and then it does not come (seen with NATS 2.9 under
        # load), and a request that has expired delivers nothing more anyway.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout + 0.05)
        taken, self._batch = self._batch, []
        return taken
