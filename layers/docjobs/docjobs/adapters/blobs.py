"""S3: documents, document versions and large job payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class S3BlobStore:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def put_text(self, key: str, text: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)

    def get_text(self, key: str) -> str:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")

    def put_json(self, key: str, value: Any) -> None:
        self.put_text(key, json.dumps(value, separators=(",", ":")), "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_text(key))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def stream(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The object's bytes in chunks, without holding all of it in memory."""
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def size_of(self, key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except self.client.exceptions.ClientError:
            return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def presign_get(self, key: str, expires_in: int = 900) -> str:
        """A short-lived URL to download `key` (signed locally: no network call)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def presign_put(self, key: str, content_type: str, expires_in: int = 900) -> str:
        return self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type}, ExpiresIn=expires_in
        )
