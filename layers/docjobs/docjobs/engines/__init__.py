"""Chat engines: turn a message and a chunked document into a reply and proposed changes.

Engines are imported lazily (by name) so that the API function never loads one to serve a poll.
"""

from __future__ import annotations

from docjobs.engines.base import Attachment, ChatEngine, ChatTurn, EngineReply, ProgressCallback

__all__ = ["Attachment", "ChatEngine", "ChatTurn", "EngineReply", "ProgressCallback", "get_engine"]


def get_engine(name: str) -> ChatEngine:
    if name == "offline":
        from docjobs.engines.offline import OfflineChatEngine

        return OfflineChatEngine()
    raise ValueError(f"unknown chat engine {name!r}; available: offline")
