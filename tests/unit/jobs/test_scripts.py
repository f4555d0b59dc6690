"""Each script's call builder hands its Lua exactly the KEYS and ARGV the Lua reads.

A call that leaves a script's optional tail unsent (a job created without a
route, or with a shared one) names the counts it sends instead.
"""

from __future__ import annotations

import re

import pytest

from visiovox.jobs import create_script, scripts
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import Job
from visiovox.jobs.queues import DeviceClass, Route

KEYS = RedisKeys("t")
SINK = scripts.EventSink(channel=KEYS.notices, maxlen=100, ttl_s=60)
JOB = Job(id="j1", pipeline="noop", owner="o")
SHARED = Route(device_class=DeviceClass.CPU, queue="vv.cpu")
PRIVATE = Route(device_class=DeviceClass.CPU, queue="vv.worker.w1", worker="w1")


def highest(lua: str, table: str) -> int:
    """The highest ``KEYS[n]``/``ARGV[n]`` index the script reads (a loop's bound counts)."""
    found = [int(n) for n in re.findall(rf"{table}\[(\d+)\]", lua)]
    if table == "KEYS":  # CREATE reads the private queue's lists as KEYS[i], i = 10..13
        found += [int(n) for n in re.findall(r"for i = \d+, (\d+) do", lua)]
    return max(found)


CALLS = {
    "create, no route": (
        create_script.CREATE,
        create_script.create_call(keys=KEYS, job=JOB, route=None, max_queued=0, sink=SINK, now=1.0),
        (6, 18),
    ),
    "create, shared route": (
        create_script.CREATE,
        create_script.create_call(
            keys=KEYS, job=JOB, route=SHARED, max_queued=0, sink=SINK, now=1.0
        ),
        (7, 20),
    ),
    "create, private route": (
        create_script.CREATE,
        create_script.create_call(
            keys=KEYS, job=JOB, route=PRIVATE, max_queued=0, sink=SINK, now=1.0
        ),
        None,
    ),
    "claim": (
        scripts.CLAIM,
        scripts.claim_call(
            keys=KEYS, job_id="j1", worker="w", lease_ms=10, max_attempts=2, sink=SINK, now=1.0
        ),
        None,
    ),
    "renew": (
        scripts.RENEW,
        scripts.renew_call(keys=KEYS, job_id="j1", worker="w", lease_ms=10),
        None,
    ),
    "release": (scripts.RELEASE, scripts.release_call(keys=KEYS, job_id="j1", worker="w"), None),
    "finish": (
        scripts.FINISH,
        scripts.finish_call(
            keys=KEYS,
            job_id="j1",
            worker="w",
            status="succeeded",
            fields={},
            event_data={},
            sink=SINK,
            now=1.0,
        ),
        None,
    ),
    "cancel": (
        scripts.CANCEL,
        scripts.cancel_call(keys=KEYS, job_id="j1", sink=SINK, now=1.0),
        None,
    ),
    "requeue": (
        scripts.REQUEUE,
        scripts.requeue_call(keys=KEYS, job_id="j1", max_attempts=2, sink=SINK, now=1.0),
        None,
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_call_carries_what_its_script_reads(name: str) -> None:
    lua, call, without_tail = CALLS[name]
    expected = without_tail or (highest(lua, "KEYS"), highest(lua, "ARGV"))
    assert (len(call.keys), len(call.args)) == expected
    assert all(isinstance(key, str) and key for key in call.keys)
