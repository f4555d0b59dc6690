"""Deployment-wide job statistics, kept in one Redis hash by the transitions themselves.

Each state change of a job runs as one Lua script (``jobs/scripts.py``); the
same script counts it here, so every job is counted exactly once however many
gateways and workers there are, and the figures survive any process restart.
Counts: jobs by pipeline and status (``queued`` on submission, ``running`` per
attempt, then the terminal status). Histograms by pipeline: dispatch time
(submission to first start) and run time (start to terminal), as bucket counts
plus sum and count. Gateways export them at scrape time (``api/metrics.py``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis

from visiovox.jobs.keys import as_text

DISPATCH_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RUN_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
HISTOGRAMS = {"dispatch": DISPATCH_BUCKETS_S, "run": RUN_BUCKETS_S}


def _lua_table(values: tuple[float, ...]) -> str:
    return "{" + ", ".join(repr(v) for v in values) + "}"


# Fields: ``jobs|<pipeline>|<status>``, ``<hist>|<pipeline>|<bucket index>`` (1-based,
# len(bounds)+1 is +Inf), ``<hist>_sum|<pipeline>``, ``<hist>_count|<pipeline>``.
_BOUNDS = f"dispatch = {_lua_table(DISPATCH_BUCKETS_S)}, run = {_lua_table(RUN_BUCKETS_S)}"
STATS_LUA = f"""
local HIST_BOUNDS = {{{_BOUNDS}}}
local function count_job(stats, pipeline, status)
  redis.call('HINCRBY', stats, 'jobs|' .. pipeline .. '|' .. status, 1)
end
local function observe(stats, hist, pipeline, value)
  local bounds = HIST_BOUNDS[hist]
  local index = #bounds + 1
  for i, bound in ipairs(bounds) do
    if value <= bound then index = i break end
  end
  redis.call('HINCRBY', stats, hist .. '|' .. pipeline .. '|' .. index, 1)
  redis.call('HINCRBYFLOAT', stats, hist .. '_sum|' .. pipeline, value)
  redis.call('HINCRBY', stats, hist .. '_count|' .. pipeline, 1)
end
local function job_pipeline(job_key)
  local raw = redis.call('HGET', job_key, 'pipeline')
  if not raw then return 'unknown' end
  return cjson.decode(raw)
end
"""


@dataclass
class Histogram:
    """One pipeline's histogram: cumulative ``(upper bound, count)`` pairs, sum and count."""

    buckets: list[tuple[float, int]]
    total: float = 0.0
    count: int = 0


@dataclass
class JobStats:
    """The statistics hash, decoded."""

    jobs: dict[tuple[str, str], int] = field(default_factory=dict)
    histograms: dict[str, dict[str, Histogram]] = field(default_factory=dict)


def read_stats(raw: dict[Any, Any]) -> JobStats:
    """Decode ``HGETALL`` of the stats hash."""
    stats = JobStats()
    bucket_counts: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    sums: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], int] = {}
    for key, value in raw.items():
        parts = as_text(key).split("|")
        text = as_text(value)
        if parts[0] == "jobs" and len(parts) == 3:
            stats.jobs[(parts[1], parts[2])] = int(text)
        elif parts[0] in HISTOGRAMS and len(parts) == 3:
            bucket_counts[(parts[0], parts[1])][int(parts[2])] = int(text)
        elif parts[0].endswith("_sum") and len(parts) == 2:
            sums[(parts[0].removesuffix("_sum"), parts[1])] = float(text)
        elif parts[0].endswith("_count") and len(parts) == 2:
            counts[(parts[0].removesuffix("_count"), parts[1])] = int(text)
    for (hist, pipeline), by_index in bucket_counts.items():
        bounds = (*HISTOGRAMS[hist], math.inf)
        running, cumulative = 0, []
        for index, bound in enumerate(bounds, start=1):
            running += by_index.get(index, 0)
            cumulative.append((bound, running))
        stats.histograms.setdefault(hist, {})[pipeline] = Histogram(
            buckets=cumulative,
            total=sums.get((hist, pipeline), 0.0),
            count=counts.get((hist, pipeline), running),
        )
    return stats


def load_stats(client: redis.Redis, key: str) -> JobStats:
    return read_stats(client.hgetall(key))
