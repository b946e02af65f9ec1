"""Starts the local stack (`python -m docjobs.local`, what `make run` runs) in a subprocess."""

from __future__ import annotations

import pytest
from docjobs.local.process import LocalStackProcess

from tests.conftest import ROOT

# The third key is the load test's own, so that its 429s never reach the other tests.
KEYS = ["sk_e2e_first_org_key_0000000001", "sk_e2e_other_org_key_0000000002", "sk_e2e_load_test_key_0000000003"]


class RunningStack(LocalStackProcess):
    def headers(self, key_index: int = 0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key_index]}"}


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    stack = RunningStack(root=ROOT, keys=KEYS, log_path=log)
    try:
        stack.__enter__()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield stack
    assert stack.stop() == 0, log.read_text()  # Ctrl-C stops it cleanly
    assert "docjobs stopped." in log.read_text()
