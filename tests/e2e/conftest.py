"""Starts the local stack (`python -m docjobs.local`, what `make run` runs) in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from docjobs.local.process import LocalStackProcess

from tests.conftest import ROOT

# The third key is the load test's own, so that its 429s never reach the other tests.
KEYS = ["sk_e2e_first_org_key_0000000001", "sk_e2e_other_org_key_0000000002", "sk_e2e_load_test_key_0000000003"]


class RunningStack(LocalStackProcess):
    def headers(self, key_index: int = 0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key_index]}"}

    def api_serving_processes(self) -> list[int]:
        """The processes that answer the API's port: those the API's process started (Linux)."""
        assert self.process is not None
        api = [pid for pid in _children(self.process.pid) if b"docjobs.local.api_server" in _cmdline(pid)]
        assert len(api) == 1, api
        return [pid for pid in _children(api[0]) if b"multiprocessing.spawn" in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    stack = RunningStack(root=ROOT, keys=KEYS, log_path=log)
    try:
        stack.__enter__()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield stack
    serving = stack.api_serving_processes()
    assert stack.stop() == 0, log.read_text()  # Ctrl-C stops it cleanly
    assert "docjobs stopped." in log.read_text()
    assert not [pid for pid in serving if alive(pid)]  # the API's processes with it
