"""NATS connections for the service's processes."""

from __future__ import annotations

import asyncio

import nats
from django.conf import settings


def jetstream_ping(*, timeout: float, servers: list[str] | None = None) -> None:
    """Connect once and ask JetStream for the account info; raises unless JetStream answers.

    A plain TCP or core-NATS check would pass against a server started without ``-js``,
    which the service cannot use. Blocking; runs its own event loop.
    """

    async def probe() -> None:
        connection = await nats.connect(
            servers=servers or settings.NATS_SERVERS,
            connect_timeout=timeout,
            allow_reconnect=False,
            max_reconnect_attempts=0,
        )
        try:
            await connection.jetstream(timeout=timeout).account_info()
        finally:
            await connection.close()

    asyncio.run(asyncio.wait_for(probe(), timeout=2 * timeout))
