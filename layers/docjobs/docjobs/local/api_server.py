"""The local stack's API: the very app the API function's Lambda handler serves, behind uvicorn,
in processes of their own: `python -m docjobs.local.api_server <state.json> <port> [processes]`.

On AWS the API function runs apart from the emulated services and from the workers; locally, in
the emulator's process, every request would wait on one interpreter lock behind the emulator
answering the workers. And like a Lambda instance, each process serves one request at a time:
the routes are `async def` that call AWS without awaiting (under Mangum that is the cheap way, see
api/deps.py), so one process would answer a burst of clients one after the other, and a slow
request (POST /v1/chat runs a whole chat turn) would hold up every poll. Several processes on one
port stand in for Lambda's concurrent instances. Started and stopped by `LocalStack` (`make
run`); it stops on SIGINT or SIGTERM, or when its parent goes away.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

STATE_ENV = "DOCJOBS_API_STATE"


def app() -> Any:
    """uvicorn's factory, called in each serving process: the API function's app. The process
    exits if its supervisor is killed (it would otherwise outlive it and keep the port)."""
    from docjobs.local.provision import LocalFunction
    from docjobs.local.runtime import load_function_module

    _on_orphaned(lambda: os.kill(os.getpid(), signal.SIGTERM))
    state = json.loads(Path(os.environ[STATE_ENV]).read_text())
    return load_function_module(LocalFunction.from_json(state["api"])).mangum().app


def _on_orphaned(stop: Any) -> None:
    """Call `stop()` once this process's parent is gone (the local stack was killed)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        stop()

    threading.Thread(target=watch, daemon=True).start()


def _listen(port: int) -> socket.socket:
    """The port the serving processes share. Not uvicorn's bind_socket: its socket leaves the
    protocol unnamed (0), and asyncio turns Nagle's algorithm off only on connections of a socket
    named TCP, so every response waited about 40 ms for the client's delayed ACK."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def main(state_path: str, port: int, processes: int = 1) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[STATE_ENV] = str(Path(state_path).resolve())
    config = uvicorn.Config("docjobs.local.api_server:app", factory=True, host="127.0.0.1", port=port,
                            workers=max(processes, 1), log_level=os.environ.get("DOCJOBS_UVICORN_LOG", "warning"))  # fmt: skip
    try:
        listener = _listen(port)
    except OSError as error:
        print(f"the API cannot listen on port {port}: {error}", file=sys.stderr, flush=True)
        return 1
    supervisor = Multiprocess(config, sockets=[listener])
    _on_orphaned(supervisor.should_exit.set)
    supervisor.run()  # SIGINT or SIGTERM: it stops its processes gracefully, then returns
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), *(int(a) for a in sys.argv[3:4])))
