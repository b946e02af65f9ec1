"""Index manifests, in the jobs table (one item per index; a project's indexes are one Query):

    pk = "INDEXES#<owner key>#<project_id>"   sk = "<index name>"

The manifest moves on only by a conditional write on its version (optimistic concurrency): two
jobs changing one index both succeed, one after the other, and neither loses the other's change.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from docjobs.adapters.dynamo import decode_cursor_json, encode_cursor, from_item, string_key, to_item
from docjobs.domain.indexes import FAILED, IndexedSource, IndexManifest
from docjobs.domain.jobs import Owner


def _partition(owner: Owner, project_id: str) -> str:
    return f"INDEXES#{owner.key}#{project_id}"


def _key(owner: Owner, project_id: str, name: str) -> dict[str, dict]:
    return {"pk": {"S": _partition(owner, project_id)}, "sk": {"S": name}}


def _values(m: IndexManifest) -> dict[str, Any]:
    return {"name": m.name, "owner": m.owner.key, "project_id": m.project_id, "status": m.status, "version": m.version,
            "created_at": m.created_at, "updated_at": m.updated_at, "last_job_id": m.last_job_id, "chunking": m.chunking,
            "embedding_model": m.embedding_model, "dimensions": m.dimensions, "snapshot_key": m.snapshot_key,
            "sources": {sid: s.to_dict() for sid, s in m.sources.items()}, "source_count": len(m.sources),
            "item_count": m.item_count, "chunk_count": m.chunk_count, "size_bytes": m.size_bytes, "error": m.error}  # fmt: skip


def _manifest(item: dict[str, Any]) -> IndexManifest:
    v = from_item(item)
    return IndexManifest(
        owner=Owner.from_key(v["owner"]), project_id=v["project_id"], name=v["name"], status=v["status"],
        version=int(v["version"]), created_at=v["created_at"], updated_at=v["updated_at"], last_job_id=v["last_job_id"],
        chunking=v.get("chunking") or {}, embedding_model=v.get("embedding_model", ""), dimensions=int(v.get("dimensions", 0)),
        snapshot_key=v.get("snapshot_key"),
        sources={sid: IndexedSource.from_dict(s) for sid, s in (v.get("sources") or {}).items()},
        item_count=int(v.get("item_count", 0)), chunk_count=int(v.get("chunk_count", 0)),
        size_bytes=int(v.get("size_bytes", 0)), error=v.get("error"),
    )  # fmt: skip


class DynamoIndexRepository:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def reserve_item(self, manifest: IndexManifest) -> dict[str, Any]:
        """The transaction item that creates an index's manifest along with the job that builds
        it: refused while the name is taken, except by an index whose first build failed."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": {**_key(manifest.owner, manifest.project_id, manifest.name), **to_item(_values(manifest))},
                "ConditionExpression": "attribute_not_exists(pk) OR (#status = :failed AND #version = :zero)",
                "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                "ExpressionAttributeValues": {":failed": {"S": FAILED}, ":zero": {"N": "0"}},
            }
        }

    def create_if_absent(self, manifest: IndexManifest) -> bool:
        try:
            put = self.reserve_item(manifest)["Put"]
            self.client.put_item(TableName=put["TableName"], Item=put["Item"], ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def get(self, owner: Owner, project_id: str, name: str, *, consistent: bool = False) -> IndexManifest | None:
        item = self.client.get_item(TableName=self.table, Key=_key(owner, project_id, name), ConsistentRead=consistent).get("Item")
        return _manifest(item) if item else None

    def list(self, owner: Owner, project_id: str, *, limit: int, cursor: str | None) -> tuple[list[IndexManifest], str | None]:
        """A page of the project's indexes by name, without their source lists."""
        partition = _partition(owner, project_id)
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "Limit": limit,
        }
        if cursor:
            start = decode_cursor_json(cursor)
            if start.get("pk") != partition or not isinstance(start.get("sk"), str):
                raise ValueError("not a cursor for this project's indexes")
            params["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": start["sk"]}}
        page = self.client.query(**params)
        last = page.get("LastEvaluatedKey")
        return [_manifest(i) for i in page.get("Items", [])], encode_cursor(string_key(last)) if last else None

    def commit(self, manifest: IndexManifest, *, expected_version: int) -> bool:
        """Write the manifest if the index is still at `expected_version` (False: another job
        changed it first, or it was deleted)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={**_key(manifest.owner, manifest.project_id, manifest.name), **to_item(_values(manifest))},
                ConditionExpression="attribute_exists(pk) AND #version = :expected",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def delete(self, owner: Owner, project_id: str, name: str) -> IndexManifest | None:
        gone = self.client.delete_item(TableName=self.table, Key=_key(owner, project_id, name), ReturnValues="ALL_OLD")
        return _manifest(gone["Attributes"]) if "Attributes" in gone else None
