"""RedisBatch: several modules' commands in one round trip to the real Redis, each step
with its own result, no step's failure reaching another."""

import logging

import pytest
import redis
from django_redis import get_redis_connection
from redis.connection import Connection

from progress_site import redis_batch
from progress_site.redis_batch import RedisBatch

KEY = "progress:test:redis-batch"


@pytest.fixture
def client():
    connection = get_redis_connection("default")
    connection.delete(KEY, KEY + ":mark", KEY + ":text")
    yield connection
    connection.delete(KEY, KEY + ":mark", KEY + ":text")


@pytest.fixture
def writes(monkeypatch):
    """How many times the client wrote to a Redis socket."""
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


def _collect(into: list, name: str):
    return {
        "then": lambda result: into.append((name, result)),
        "failed": lambda error: into.append((name, error)),
    }


def test_steps_get_their_own_results_from_one_round_trip(client, writes):
    outcomes = []
    batch = RedisBatch()
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "bump"))
    batch.add(lambda p: p.set(KEY + ":mark", b"1", nx=True, px=5000), **_collect(outcomes, "mark"))
    batch.run()
    assert outcomes == [("bump", 1), ("mark", True)]
    assert len(writes) == 1
    assert client.get(KEY) == b"1"

    outcomes.clear()
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "bump"))
    batch.add(lambda p: p.set(KEY + ":mark", b"1", nx=True, px=5000), **_collect(outcomes, "mark"))
    batch.run()
    assert outcomes == [("bump", 2), ("mark", None)]  # the mark was already set


def test_a_failing_command_reaches_only_its_own_step(client):
    client.set(KEY + ":text", b"not a number")
    outcomes = []
    batch = RedisBatch()
    batch.add(lambda p: p.incr(KEY + ":text"), **_collect(outcomes, "bad"))
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "good"))
    batch.run()
    (bad_name, bad), (good_name, good) = outcomes
    assert (bad_name, good_name) == ("bad", "good")
    assert isinstance(bad, redis.ResponseError)
    assert good == 1


def test_unreachable_redis_fails_every_step_and_run_does_not_raise(monkeypatch):
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(redis_batch, "get_redis_connection", lambda alias: unreachable)
    outcomes = []
    batch = RedisBatch()
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "bump"))
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "other"))
    batch.run()
    assert [name for name, _ in outcomes] == ["bump", "other"]
    assert all(isinstance(error, redis.ConnectionError) for _, error in outcomes)


def test_a_raising_callback_is_logged_and_the_next_step_still_runs(client, caplog):
    outcomes = []

    def explode(result):
        raise RuntimeError("callback bug")

    batch = RedisBatch()
    batch.add(lambda p: p.incr(KEY), then=explode, failed=outcomes.append)
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "second"))
    with caplog.at_level(logging.ERROR, logger="progress_site.redis_batch"):
        batch.run()
    assert outcomes == [("second", 2)]
    assert "callback failed" in caplog.text


def test_an_empty_batch_sends_nothing(writes):
    RedisBatch().run()
    assert writes == []


def test_steps_run_once(client):
    outcomes = []
    batch = RedisBatch()
    batch.add(lambda p: p.incr(KEY), **_collect(outcomes, "bump"))
    batch.run()
    batch.run()
    assert outcomes == [("bump", 1)]
