"""Parsed documents, kept in S3 by content: a source parsed once (by parse, batch_parse or any
operation) is not parsed again by the next operation, and an index build parses only the sources
that have no parse result yet. The key names the parser's version, so a better parser is never
shadowed by an old result.

    S3: parsed/<owner kind>/<owner id>/<project_id>/<sha256>.v<PARSED_FORMAT>.json
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from docjobs.bootstrap import Container
from docjobs.domain.jobs import Owner
from docjobs.observability import logger

if TYPE_CHECKING:
    from docjobs.processors.model import ParsedDocument

PARSED_FORMAT = 1  # raise when the parsers change what they produce
MISSING = ("NoSuchKey", "404", "NotFound")


class ParsedCache:
    def __init__(self, c: Container, owner: Owner, project_id: str) -> None:
        self.c, self.owner, self.project_id = c, owner, project_id

    def key(self, sha256: str) -> str:
        return f"parsed/{self.owner.kind}/{self.owner.id}/{self.project_id}/{sha256}.v{PARSED_FORMAT}.json"

    def get(self, sha256: str) -> ParsedDocument | None:
        from docjobs.processors.model import ParsedDocument

        try:
            return ParsedDocument.from_dict(self.c.blobs.get_json(self.key(sha256)))
        except ClientError as error:
            if error.response["Error"]["Code"] not in MISSING:
                raise
            return None
        except (ValueError, KeyError, TypeError):  # unreadable: parse again (and overwrite it)
            logger.warning("unreadable cached parse ignored", extra={"key": self.key(sha256)})
            return None

    def put(self, sha256: str, parsed: ParsedDocument) -> None:
        self.c.blobs.put_text(self.key(sha256), json.dumps(parsed.to_dict(), separators=(",", ":")), "application/json")
