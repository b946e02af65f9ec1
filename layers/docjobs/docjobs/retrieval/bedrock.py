"""Amazon Bedrock embeddings (Titan Text Embeddings V2) behind the same `Embedder` interface as the
offline default. Chosen with EMBEDDINGS=bedrock:<model id>:<dimensions> on the index function; an
index remembers its embedder's name and refuses queries embedded by another."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
MAX_INPUT_CHARACTERS = 50_000  # Titan V2 reads at most 8,192 tokens


class BedrockEmbedder:
    def __init__(self, client: Any, model_id: str = TITAN_V2, dimensions: int = 256, concurrency: int = 8) -> None:
        if dimensions not in TITAN_DIMENSIONS:
            raise ValueError(f"Titan V2 embeds in {TITAN_DIMENSIONS} dimensions, not {dimensions}")
        self.client, self.model_id, self.dimensions, self.concurrency = client, model_id, dimensions, concurrency
        self.name = f"bedrock:{model_id}:{dimensions}"

    @classmethod
    def from_setting(cls, setting: str, client: Any) -> BedrockEmbedder:
        """`bedrock`, `bedrock:<model id>` or `bedrock:<model id>:<dimensions>`."""
        _, _, rest = setting.partition(":")
        model_id, _, dimensions = rest.rpartition(":") if rest.count(":") >= 2 else (rest, "", "")
        return cls(client, model_id or TITAN_V2, int(dimensions or 256))

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        wanted = [i for i, t in enumerate(texts) if t.strip()]  # an empty text has no direction
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for i, vector in zip(wanted, pool.map(lambda i: self._one(texts[i]), wanted), strict=True):
                out[i] = vector
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def _one(self, text: str) -> list[float]:
        body = json.dumps({"inputText": text[:MAX_INPUT_CHARACTERS], "dimensions": self.dimensions, "normalize": True})
        response = self.client.invoke_model(modelId=self.model_id, body=body, contentType="application/json",
                                            accept="application/json")  # fmt: skip
        return json.loads(response["body"].read())["embedding"]
