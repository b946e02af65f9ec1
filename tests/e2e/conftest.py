"""Starts the local stack (`python -m docjobs.local`, what `make run` runs) in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import requests
from docjobs.local.stack import free_port

from tests.conftest import ROOT

KEYS = ["sk_e2e_first_org_key_0000000001", "sk_e2e_other_org_key_0000000002"]


@dataclass
class RunningStack:
    base_url: str
    keys: list[str]
    process: subprocess.Popen

    def headers(self, key_index: int = 0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key_index]}"}


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("POWERTOOLS_")}
    env.update(DOCJOBS_PORT=str(port), DOCJOBS_API_KEY=",".join(KEYS), PYTHONUNBUFFERED="1")
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "docjobs.local"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    stack = RunningStack(f"http://127.0.0.1:{port}", KEYS, process)
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{stack.base_url}/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield stack
    process.send_signal(signal.SIGINT)  # Ctrl-C
    try:
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert "docjobs stopped." in log.read_text()
