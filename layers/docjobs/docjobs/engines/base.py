"""The chat engine interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from docjobs.domain.documents import Change, Document

# progress(percent, note): the engine reports how far it got; notes become intermediate_responses.
ProgressCallback = Callable[[int, str], None]


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    filename: str
    text: str  # the parsed file's text, blocks separated by blank lines


@dataclass(frozen=True)
class ChatTurn:
    message: str
    document: Document | None  # None: the session holds no document yet
    history: list[dict] = field(default_factory=list)  # earlier turns: {"role", "content"}
    change_id_prefix: str = "chg"  # ids of proposed changes are unique within one job
    attachments: list[Attachment] = field(default_factory=list)  # files attached to the session



@dataclass(frozen=True)
class EngineReply:
    response: str
    changes: list[Change] = field(default_factory=list)
    # Model tokens, where an engine has them; the offline engine counts words.
    input_tokens: int = 0
    output_tokens: int = 0


class ChatEngine(Protocol):
    name: str

    def reply(self, turn: ChatTurn, progress: ProgressCallback) -> EngineReply: ...
