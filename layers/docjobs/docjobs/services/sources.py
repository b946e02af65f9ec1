"""Sources: upload a file to a project (directly, or through a presigned URL for large files)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from docjobs.adapters.sources_table import Source, source_id_for, source_object_key
from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import InvalidRequestError, PayloadTooLargeError, SourceNotFoundError
from docjobs.domain.jobs import Owner
from docjobs.services.auth import Principal

MAX_SOURCE_BYTES = 100 * 1024 * 1024  # through a presigned upload; direct uploads stop at the request limit
UPLOAD_URL_SECONDS = 900
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def clean_filename(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return (_UNSAFE.sub("_", base).strip(" .") or "document")[:200]


def add_source(c: Container, owner: Owner, project_id: str, data: bytes, filename: str | None,
               content_type: str | None) -> Source:  # fmt: skip
    """Store bytes as a source of the project; the same bytes again return the same source."""
    if not data:
        raise InvalidRequestError("The file is empty.", field="file")
    if len(data) > MAX_SOURCE_BYTES:
        raise PayloadTooLargeError(f"Files are limited to {MAX_SOURCE_BYTES // (1024 * 1024)} MB.")
    sha256 = hashlib.sha256(data).hexdigest()
    existing = c.sources.get(owner, project_id, source_id_for(sha256))
    if existing is not None:
        return existing
    key = source_object_key(owner, project_id, sha256)
    content_type = (content_type or "application/octet-stream").split(";")[0].strip() or "application/octet-stream"
    c.blobs.put_bytes(key, data, content_type)
    source = Source(id=source_id_for(sha256), owner=owner, project_id=project_id,
                    filename=clean_filename(filename), content_type=content_type, size=len(data), sha256=sha256,
                    key=key, created_at=clock.iso(c.now()))  # fmt: skip
    return c.sources.add(source)


def get_source(c: Container, principal: Principal, project_id: str, source_id: str) -> Source:
    source = c.sources.get(principal.owner, project_id, source_id) if source_id.startswith("src_") else None
    if source is None:
        raise SourceNotFoundError(f"Source {source_id!r} not found in project {project_id!r}.")
    return source


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    upload_url: str
    expires_in: int
    content_type: str

    def to_public(self, project_id: str) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "upload_url": self.upload_url,
            "method": "PUT",
            "headers": {"Content-Type": self.content_type},
            "expires_in": self.expires_in,
            "complete_url": f"/v1/projects/{project_id}/files/uploads/{self.upload_id}/complete",
        }


def _upload_key(principal: Principal, project_id: str, upload_id: str) -> str:
    return f"uploads/{principal.owner.kind}/{principal.owner.id}/{project_id}/{upload_id}"


def start_upload(c: Container, principal: Principal, project_id: str, content_type: str | None) -> UploadTicket:
    """A presigned PUT for a file larger than the API's request limit; then call complete."""
    upload_id = "upl_" + secrets.token_hex(16)
    content_type = content_type or "application/octet-stream"
    url = c.blobs.presign_put(_upload_key(principal, project_id, upload_id), content_type, UPLOAD_URL_SECONDS)
    return UploadTicket(upload_id, url, UPLOAD_URL_SECONDS, content_type)


def complete_upload(c: Container, principal: Principal, project_id: str, upload_id: str, filename: str | None,
                    content_type: str | None) -> Source:  # fmt: skip
    if not re.fullmatch(r"upl_[0-9a-f]{32}", upload_id):
        raise SourceNotFoundError(f"Upload {upload_id!r} not found.")
    key = _upload_key(principal, project_id, upload_id)
    size = c.blobs.size_of(key)
    if size is None:
        raise SourceNotFoundError(f"Upload {upload_id} not found: PUT the file to its upload_url first.")
    if size > MAX_SOURCE_BYTES:
        c.blobs.delete(key)
        raise PayloadTooLargeError(f"Files are limited to {MAX_SOURCE_BYTES // (1024 * 1024)} MB.")
    source = add_source(c, principal.owner, project_id, c.blobs.get_bytes(key), filename, content_type)
    c.blobs.delete(key)
    return source
