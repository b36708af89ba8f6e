"""The baseline the monitor's ingest rate is compared with (`python -m simulation.bench.bare_agent`):
a faust agent that only consumes the dossier-events topic, decodes each event and counts. It prints
one JSON line when it has counted `LT_BENCH_EVENTS`: events, seconds from first to last, rate."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import faust

from contracts import topics

expected = int(os.environ["LT_BENCH_EVENTS"])
prefix = os.environ["LT_TOPIC_PREFIX"]
app = faust.App(
    f"{prefix}.bare-agent",
    broker=f"kafka://{os.environ['LT_KAFKA_BOOTSTRAP']}",
    value_serializer="raw",
    store="memory://",
    topic_allow_declare=False,
    topic_disable_leader=True,
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    datadir=os.environ.get("LT_BENCH_DATADIR", "/tmp/lienthong-bare-agent"),
)
events = app.topic(topics.dossier_events(prefix), value_type=bytes, value_serializer="raw")
seen = {"n": 0, "first": 0.0}


@app.agent(events)
async def count(stream: Any) -> None:
    async for batch in stream.take_events(500, within=0.2):
        if not seen["n"]:
            seen["first"] = time.perf_counter()
        for e in batch:
            json.loads(e.value)
        seen["n"] += len(batch)
        if seen["n"] >= expected:
            took = time.perf_counter() - seen["first"]
            print(json.dumps({"events": seen["n"], "seconds": round(took, 3), "per_s": round(seen["n"] / took, 1)}))
            sys.stdout.flush()
            os._exit(0)  # measured: no need for a graceful faust shutdown


if __name__ == "__main__":
    from faust.worker import Worker

    Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()
