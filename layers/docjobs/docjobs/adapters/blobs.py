"""S3: documents, document versions and large job payloads."""

from __future__ import annotations

import json
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
