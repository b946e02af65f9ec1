"""The local stack's event sources (SQS queues, the DynamoDB stream, schedules) and the handlers
they feed, in a process of their own: `python -m docjobs.local.event_sources <state.json>`.

On AWS the API and the workers are separate Lambda functions on separate machines; locally they
share a machine, and in one Python process they would share one interpreter lock as well, so
every job's work (and the emulator answering it) would queue behind every request. Started and
stopped by `LocalStack` (`make run`); it stops by itself on SIGINT/SIGTERM or when its parent
goes away.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from docjobs.local.provision import LocalFunction


def start(functions: list[LocalFunction], sqs: Any, streams: Any, stop: threading.Event,
          workers_per_queue: int) -> list[threading.Thread]:  # fmt: skip
    """Poll every event source of `functions` and feed their handlers, as Lambda would."""
    from docjobs.local.runtime import ScheduleRunner, SqsPoller, StreamPoller

    pollers: list[threading.Thread] = []
    for function in functions:
        for n, source in enumerate(function.sqs_sources):
            for i in range(workers_per_queue):
                pollers.append(SqsPoller(function, source, sqs, stop, name=f"{function.logical_id}-sqs{n}-{i}"))
        for stream_source in function.stream_sources:
            pollers.append(StreamPoller(function, stream_source, streams, stop))
        for every in function.schedules:
            pollers.append(ScheduleRunner(function, every, stop))
    for poller in pollers:
        poller.start()
    return pollers


def main(state_path: str) -> int:
    import boto3

    from docjobs.local.provision import REGION

    state = json.loads(Path(state_path).read_text())
    functions = [LocalFunction.from_json(spec) for spec in state["functions"]]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    session = boto3.session.Session(region_name=REGION)  # endpoint and credentials: the parent's environment
    pollers = start(functions, session.client("sqs"), session.client("dynamodbstreams"), stop, state["workers_per_queue"])
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the local stack is gone (killed): so are we
            stop.set()
    for poller in pollers:
        poller.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
