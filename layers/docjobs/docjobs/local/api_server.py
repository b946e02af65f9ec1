"""The local stack's API: the very app the API function's Lambda handler serves, behind uvicorn,
in a process of its own: `python -m docjobs.local.api_server <state.json> <port>`.

On AWS the API function runs apart from the emulated services and from the workers; locally, in
the emulator's process, every request would wait on one interpreter lock behind the emulator
answering the workers. Started and stopped by `LocalStack` (`make run`); it stops on SIGINT or
SIGTERM, or when its parent goes away.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path


def main(state_path: str, port: int) -> int:
    import uvicorn

    from docjobs.local.provision import LocalFunction
    from docjobs.local.runtime import load_function_module

    state = json.loads(Path(state_path).read_text())
    app = load_function_module(LocalFunction.from_json(state["api"])).mangum().app  # the very app the Lambda handler serves
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=os.environ.get("DOCJOBS_UVICORN_LOG", "warning"))
    server = uvicorn.Server(config)
    parent = os.getppid()

    def watch_parent() -> None:  # the local stack was killed: so are we
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
            threading.Event().wait(1.0)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        server.run()  # uvicorn handles SIGINT and SIGTERM: it stops gracefully
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
