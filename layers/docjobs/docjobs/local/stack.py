"""LocalStack-in-a-process: the emulator, the resources of template.yaml, the handlers fed by
their event sources. Used by `make run` and by the end-to-end tests."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docjobs.local.provision import REGION, Stack, provision

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "docjobs-local", "AWS_SECRET_ACCESS_KEY": "docjobs-local"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_template(start: Path | None = None) -> Path:
    if env := os.environ.get("DOCJOBS_TEMPLATE"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder / "template.yaml"
    raise FileNotFoundError("template.yaml not found: run from the docjobs checkout or set DOCJOBS_TEMPLATE")


@dataclass
class LocalStack:
    template: Path
    emulator_port: int = 0
    workers_per_queue: int = 4
    api_processes: int = 4
    stack: Stack | None = None
    _server: Any = None
    _children: list[subprocess.Popen] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    def start(self) -> Stack:
        from moto.server import ThreadedMotoServer

        from docjobs.local.emulator import keep_outbox, prepare_emulator

        prepare_emulator()
        keep_outbox(self.template.parent / ".docjobs" / "outbox")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.emulator_port = self.emulator_port or free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.emulator_port, verbose=False)
        self._server.start()
        # Let the emulator run Step Functions executions (it calls SQS and DynamoDB back on MOTO_PORT).
        config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/config", data=config, method="POST"))
        # Every boto3 client in this process (handlers included) talks to the emulator.
        os.environ.update(
            {
                **LOCAL_CREDENTIALS,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint,
                "MOTO_PORT": str(self.emulator_port),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                # Local development sends webhooks to receivers on this machine; a deployed
                # stack never allows loopback (nor any private address).
                "WEBHOOK_ALLOW_LOOPBACK": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        self.stack = provision(self.template, self.clients())
        os.environ.update(self.stack.environment)
        from docjobs.bootstrap import get_container
        from docjobs.config import get_settings

        get_settings.cache_clear()
        get_container.cache_clear()
        return self.stack

    def clients(self) -> dict[str, Any]:
        import boto3

        session = boto3.session.Session(region_name=REGION, **{k.lower(): v for k, v in LOCAL_CREDENTIALS.items()})
        names = ("dynamodb", "dynamodbstreams", "sqs", "s3", "stepfunctions", "events", "ses")
        return {name: session.client(name, endpoint_url=self.endpoint) for name in names}

    def start_event_sources(self, state_dir: Path) -> None:
        """Feed every function but the API from its event sources, in a process of their own
        (see event_sources.py)."""
        assert self.stack is not None
        functions = [f.to_json() for f in self.stack.functions.values() if not f.serves_api]
        self._spawn("docjobs.local.event_sources", state_dir / "event-sources.json",
                    {"workers_per_queue": self.workers_per_queue, "functions": functions})  # fmt: skip

    def serve_api(self, state_dir: Path, port: int, timeout: float = 60.0) -> None:
        """Serve the API function's app with uvicorn on `port`, in `api_processes` processes of
        its own (see api_server.py); returns once it answers."""
        assert self.stack is not None
        api = next(f for f in self.stack.functions.values() if f.serves_api)
        server = self._spawn("docjobs.local.api_server", state_dir / "api.json", {"api": api.to_json()},
                             str(port), str(self.api_processes))  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on port {port} (is the port in use? DOCJOBS_PORT chooses another)")
            time.sleep(0.1)

    def _spawn(self, module: str, state_path: Path, state: dict[str, Any], *args: str) -> subprocess.Popen:
        """Start `python -m module state_path *args`, after writing what it needs to `state_path`."""
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=2))
        child = subprocess.Popen([sys.executable, "-m", module, str(state_path), *args])
        self._children.append(child)
        return child

    def running(self) -> bool:
        """Whether every process of the stack is still up."""
        return all(child.poll() is None for child in self._children)

    def write_state(self, path: Path, api_url: str) -> None:
        assert self.stack is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"api_url": api_url, "endpoint_url": self.endpoint, "region": REGION, "environment": self.stack.environment}
        path.write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        for child in self._children:
            if child.poll() is None:
                child.terminate()
        for child in self._children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._server is not None:
            self._server.stop()
