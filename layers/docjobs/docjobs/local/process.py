"""The local stack in a subprocess (what `make run` runs), for end-to-end tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docjobs.local.stack import free_port


@dataclass
class LocalStackProcess:
    root: Path
    keys: list[str]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    process: subprocess.Popen | None = None

    def __enter__(self) -> LocalStackProcess:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
        env.update(DOCJOBS_PORT=str(port), DOCJOBS_API_KEY=",".join(self.keys), PYTHONUNBUFFERED="1", **self.extra_env)
        self.base_url = f"http://127.0.0.1:{port}"
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "docjobs.local"], cwd=self.root, env=env,
                                            stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"the local stack did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def state(self) -> dict[str, Any]:
        """Endpoints and resource names of the running stack (.docjobs/local.json)."""
        return json.loads((self.root / ".docjobs" / "local.json").read_text())

    def stop(self) -> int:
        """Ctrl-C, as a person would; the exit code, or -9 if it had to be killed after 30 s."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -9

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
