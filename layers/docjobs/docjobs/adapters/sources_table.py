"""Sources: the files a project's jobs work on. One item per distinct content (by SHA-256) in a
project, in the jobs table, the bytes in S3:

    pk = "SOURCE#<owner key>#<project_id>#<source_id>"   sk = "SOURCE"
    S3: sources/<owner kind>/<owner id>/<project_id>/<sha256>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from docjobs.adapters.dynamo import from_item, to_item
from docjobs.domain.jobs import Owner


@dataclass(frozen=True)
class Source:
    id: str
    owner: Owner
    project_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    key: str
    created_at: str

    def to_public(self) -> dict[str, Any]:
        return {"id": self.id, "project_id": self.project_id, "filename": self.filename,
                "content_type": self.content_type, "size": self.size, "sha256": self.sha256,
                "created_at": self.created_at, "object": "file"}  # fmt: skip


def source_id_for(sha256: str) -> str:
    return "src_" + sha256[:32]


def source_object_key(owner: Owner, project_id: str, sha256: str) -> str:
    return f"sources/{owner.kind}/{owner.id}/{project_id}/{sha256}"


class DynamoSourceRepository:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    @staticmethod
    def _key(owner: Owner, project_id: str, source_id: str) -> dict[str, dict]:
        return {"pk": {"S": f"SOURCE#{owner.key}#{project_id}#{source_id}"}, "sk": {"S": "SOURCE"}}

    def add(self, source: Source) -> Source:
        """Store `source` unless the project already has the same bytes: then return that one."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **self._key(source.owner, source.project_id, source.id),
                    **to_item({"source_id": source.id, "owner": source.owner.key, "project_id": source.project_id,
                               "filename": source.filename, "content_type": source.content_type, "size": source.size,
                               "sha256": source.sha256, "s3_key": source.key, "created_at": source.created_at}),  # fmt: skip
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return source
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self._to_source(error.response.get("Item") or {}) or source

    def get(self, owner: Owner, project_id: str, source_id: str) -> Source | None:
        item = self.client.get_item(TableName=self.table, Key=self._key(owner, project_id, source_id)).get("Item")
        return self._to_source(item) if item else None

    def get_many(self, owner: Owner, project_id: str, source_ids: list[str]) -> dict[str, Source]:
        """The sources that exist among `source_ids` (BatchGetItem, 100 keys a call)."""
        found: dict[str, Source] = {}
        for start in range(0, len(source_ids), 100):
            keys = [self._key(owner, project_id, sid) for sid in source_ids[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    if source := self._to_source(item):
                        found[source.id] = source
                request = response.get("UnprocessedKeys") or {}
        return found

    @staticmethod
    def _to_source(item: dict[str, Any]) -> Source | None:
        if not item:
            return None
        v = from_item(item)
        return Source(id=v["source_id"], owner=Owner.from_key(v["owner"]), project_id=v["project_id"],
                      filename=v["filename"], content_type=v["content_type"], size=int(v["size"]), sha256=v["sha256"],
                      key=v["s3_key"], created_at=v["created_at"])  # fmt: skip
