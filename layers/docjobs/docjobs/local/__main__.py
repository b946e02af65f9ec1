"""`make run`: start the whole system locally, no AWS account and no Docker.

    DOCJOBS_PORT        the API's port (default 8000)
    DOCJOBS_API_KEY     sk_... key(s) to create, comma-separated, each for an organization of its own
                        (default: one random key)
    DOCJOBS_TIER        the keys' subscription tier (default free)
    DOCJOBS_EMULATOR_PORT  the AWS emulator's port (default: a free one)
    DOCJOBS_LOCAL_WORKERS  concurrent pollers per SQS queue (default 4)
    DOCJOBS_LOCAL_API_PROCESSES  processes serving the API, each one request at a time like a
                        Lambda instance (default 4)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

STATE_FILE = Path(".docjobs/local.json")


def main() -> int:
    import time

    from docjobs.bootstrap import get_container
    from docjobs.domain.jobs import Owner
    from docjobs.local.stack import LocalStack, find_template
    from docjobs.services.auth import create_api_key

    port = int(os.environ.get("DOCJOBS_PORT", "8000"))
    failed = False
    template = find_template()
    stack = LocalStack(template=template, emulator_port=int(os.environ.get("DOCJOBS_EMULATOR_PORT", "0")),
                       workers_per_queue=int(os.environ.get("DOCJOBS_LOCAL_WORKERS", "4")),
                       api_processes=int(os.environ.get("DOCJOBS_LOCAL_API_PROCESSES", "4")))  # fmt: skip
    stack.start()
    try:
        container = get_container()
        tier = os.environ.get("DOCJOBS_TIER", "free")
        wanted = [k.strip() for k in os.environ.get("DOCJOBS_API_KEY", "").split(",") if k.strip()] or [None]
        keys = []
        for n, chosen in enumerate(wanted, start=1):
            owner = Owner("org", f"org-local-{n}")
            api_key, _ = create_api_key(container, owner, tier=tier, name="local", api_key=chosen)
            keys.append((api_key, owner))

        # The emulator stays here; the API and the workers each run in a process of their own,
        # as they do on AWS (in one process they would share one interpreter lock).
        stack.start_event_sources(template.parent / STATE_FILE.parent)
        try:
            stack.serve_api(template.parent / STATE_FILE.parent, port)
        except RuntimeError as error:
            print(f"docjobs could not start: {error}", flush=True)
            return 1  # the finally below stops what did start
        base_url = f"http://127.0.0.1:{port}"
        stack.write_state(template.parent / STATE_FILE, base_url)
        print(f"\ndocjobs is running at {base_url}  (docs: {base_url}/docs)", flush=True)
        for api_key, owner in keys:
            print(f"  API key for organization {owner.id} ({tier} tier): {api_key}", flush=True)
        print(f"  AWS emulator: {stack.endpoint}   Ctrl-C stops everything.\n", flush=True)

        try:
            while stack.running():
                time.sleep(0.5)
            print("a process of the local stack stopped unexpectedly; stopping the rest", flush=True)
            failed = True
        except KeyboardInterrupt:
            pass
    finally:
        stack.stop()
        print("docjobs stopped.", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
