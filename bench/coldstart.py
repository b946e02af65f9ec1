"""Cold start of each Lambda handler: a fresh Python process that imports the handler and serves
its first event, against the floor, a fresh process that only imports boto3 and makes one client.
Both are whole processes (interpreter start included), median of several runs.

The API serves a real first `GET /v1/jobs/{id}` (API key lookup, then the job's GetItem) over HTTP
against a small in-memory DynamoDB endpoint holding the two items; the other handlers import and
handle a first event that needs no I/O (their real work is I/O-bound and depends on the job).
`python -X importtime` names the top import costs of the API handler.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
FLOOR = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
# Events that need no I/O: a message that is not a work message (reported failed), and a stream
# record of an item that is not a job (ignored).
_NOT_A_MESSAGE = {"Records": [{"messageId": "m1", "receiptHandle": "r1", "body": "not a message", "attributes": {"ApproximateReceiveCount": "1"},
                               "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                               "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"}]}  # fmt: skip
_NOT_A_JOB = {"Records": [{"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                           "dynamodb": {"NewImage": {"pk": {"S": "SOURCE#x"}, "sk": {"S": "SOURCE"}}, "SequenceNumber": "1",
                                        "StreamViewType": "NEW_AND_OLD_IMAGES"},
                           "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/1"}]}  # fmt: skip
EMPTY_EVENTS = {"WorkerFunction": _NOT_A_MESSAGE, "EventsFunction": _NOT_A_JOB, "WebhookFunction": _NOT_A_MESSAGE}
SERVE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler_module", sys.argv[1])
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
class Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "bench", 1024, "arn:aws:lambda:us-east-1:1:function:bench", "r1"
    def get_remaining_time_in_millis(self): return 30000
response = module.handler(json.loads(sys.argv[2]), Context())
print(json.dumps({"status": response.get("statusCode") if isinstance(response, dict) else None}))
"""


class FakeDynamoDB(BaseHTTPRequestHandler):
    """GetItem from a dict of items by (table, pk, sk); enough for the API's first poll."""

    items: dict[tuple[str, str, str], dict[str, Any]] = {}

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        target = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        answer: dict[str, Any] = {}
        if target == "GetItem":
            key = body["Key"]
            item = self.items.get((body["TableName"], key["pk"]["S"], key["sk"]["S"]))
            answer = {"Item": item} if item else {}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def seed_items() -> tuple[dict[tuple[str, str, str], dict[str, Any]], str, str, dict[str, str]]:
    """A key and a finished chat job, made by docjobs itself on moto, then copied out."""
    from docjobs.domain.jobs import Owner
    from docjobs.services.auth import Principal, create_api_key
    from docjobs.services.chat import ChatRequest, submit_chat

    from bench.costs import environment

    mock, c = environment()
    try:
        key, record = create_api_key(c, Owner("org", "cold"), tier="enterprise")
        principal = Principal(owner=record.owner, tier="enterprise", key_prefix=record.prefix)
        job = submit_chat(c, principal, ChatRequest(message="Summarize", session_id="s", document_html="<p>Hi there.</p>"),
                          route="chat_async").job  # fmt: skip
        items = {}
        for table in (c.settings.jobs_table, c.settings.accounts_table):
            for item in c.jobs.client.scan(TableName=table)["Items"]:
                items[(table, item["pk"]["S"], item["sk"]["S"])] = item
        env = {"JOBS_TABLE": c.settings.jobs_table, "ACCOUNTS_TABLE": c.settings.accounts_table,
               "WORK_QUEUE_URL": c.settings.work_queue_url, "DOCUMENTS_BUCKET": c.settings.documents_bucket}  # fmt: skip
        return items, key, job.job_id, env
    finally:
        mock.stop()


def wall_ms(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return (time.perf_counter() - started) * 1000, out.stdout


def run() -> dict[str, Any]:
    items, key, job_id, tables = seed_items()
    FakeDynamoDB.items = items
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDynamoDB)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **tables,
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{server.server_address[1]}",
           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "docjobs", "POWERTOOLS_SERVICE_NAME": "docjobs",
           "POWERTOOLS_LOG_LEVEL": "WARNING"}  # fmt: skip
    api_event = json.loads((ROOT / "events/api__get_job.json").read_text())
    api_event["path"] = f"/v1/jobs/{job_id}"
    api_event["pathParameters"] = {"proxy": f"v1/jobs/{job_id}"}
    api_event["headers"] = {**(api_event.get("headers") or {}), "Authorization": f"Bearer {key}"}
    api_event["multiValueHeaders"] = {k: [v] for k, v in api_event["headers"].items()}
    handlers = {"ApiFunction": ("functions/api/app.py", api_event), "WorkerFunction": ("functions/worker/app.py", EMPTY_EVENTS["WorkerFunction"]),
                "EventsFunction": ("functions/events/app.py", EMPTY_EVENTS["EventsFunction"]),
                "WebhookFunction": ("functions/webhooks/app.py", EMPTY_EVENTS["WebhookFunction"])}  # fmt: skip
    try:
        # Interleaved (the floor, then each handler, in every round), so that a machine that slows
        # down or speeds up during the run moves the floor and the handlers alike.
        floor: list[float] = []
        timings: dict[str, list[float]] = {name: [] for name in handlers}
        statuses: dict[str, Any] = {}
        for _ in range(RUNS):
            floor.append(wall_ms([sys.executable, "-c", FLOOR], env)[0])
            for name, (path, event) in handlers.items():
                ms, out = wall_ms([sys.executable, "-c", SERVE, str(ROOT / path), json.dumps(event)], env)
                timings[name].append(ms)
                statuses[name] = json.loads(out.strip().splitlines()[-1])["status"]
        results: dict[str, Any] = {"floor_ms": round(statistics.median(floor), 1), "handlers": {}}
        for name, measured in timings.items():
            median = statistics.median(measured)
            results["handlers"][name] = {"ms": round(median, 1), "ratio": round(median / results["floor_ms"], 2), "status": statuses[name]}
        results["top_imports_ms"] = top_imports(env, api_event)
        return results
    finally:
        server.shutdown()


def top_imports(env: dict[str, str], event: dict[str, Any], n: int = 8) -> list[tuple[str, float]]:
    """The API handler's costliest top-level imports (cumulative, -X importtime)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", SERVE, str(ROOT / "functions/api/app.py"), json.dumps(event)],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)  # fmt: skip
    costs = []
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            if cumulative.isdigit() and not name.startswith(" ") and "." not in name:
                costs.append((name, round(int(cumulative) / 1000, 1)))
    return sorted(costs, key=lambda x: -x[1])[:n]


def report(r: dict[str, Any]) -> None:
    print(f"\n| cold start (fresh process, median of {RUNS}) | ms | vs boto3 + one client ({r['floor_ms']} ms) |")
    print("|---|---|---|")
    for name, h in r["handlers"].items():
        what = "first GET /v1/jobs/{id} served" if name == "ApiFunction" else "a first event needing no I/O"
        print(f"| {name}: import + {what} (status {h['status']}) | {h['ms']} | {h['ratio']}x |")
    print("\nAPI handler's costliest imports (ms, cumulative): " + ", ".join(f"{n} {ms}" for n, ms in r["top_imports_ms"]))


if __name__ == "__main__":
    report(run())
