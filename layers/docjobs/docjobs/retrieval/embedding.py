"""Dense embeddings, offline on the CPU.

The default model is WordLlama's `l2_supercat` (MIT): a 32,000-token vocabulary with one
256-dimensional vector per token, shipped inside the `wordllama` wheel on PyPI. A text's
embedding is the mean of its tokens' vectors, L2-normalised, so cosine similarity is a dot
product. We read the wheel's files directly (never `wordllama.load()`, which fetches from the
Hugging Face hub at run time); nothing is downloaded. Other embedders (Bedrock) plug in behind
`Embedder`.
"""

from __future__ import annotations

import json
import threading
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_NAME = "wordllama-l2-supercat-256"
WEIGHTS = "wordllama/weights/l2_supercat_256.safetensors"
TOKENIZER = "wordllama/tokenizers/l2_supercat_tokenizer_config.json"
SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32}
MAX_TOKENS = 512  # a chunk's first 512 tokens describe it well enough for a mean of token vectors


class Embedder(Protocol):
    name: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def read_safetensors_matrix(path: Path) -> np.ndarray:
    """The single tensor of a safetensors file (8-byte header length, JSON header, raw data)."""
    raw = path.read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_length])
    name, meta = next((k, v) for k, v in header.items() if k != "__metadata__")
    start, end = meta["data_offsets"]
    data = raw[8 + header_length + start : 8 + header_length + end]
    return np.frombuffer(data, dtype=SAFETENSORS_DTYPES[meta["dtype"]]).reshape(meta["shape"])


class StaticEmbedder:
    name = MODEL_NAME

    def __init__(self, vectors: np.ndarray, tokenizer: Any) -> None:
        self.vectors = vectors.astype(np.float32)
        self.dimensions = int(vectors.shape[1])
        self.tokenizer = tokenizer

    @classmethod
    def from_package(cls) -> StaticEmbedder:
        from tokenizers import Tokenizer

        try:
            package = distribution("wordllama")
        except PackageNotFoundError:
            raise RuntimeError("The wordllama package (the embedding weights) is not installed.") from None
        weights = Path(str(package.locate_file(WEIGHTS)))
        tokenizer = Tokenizer.from_file(str(package.locate_file(TOKENIZER)))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        return cls(read_safetensors_matrix(weights), tokenizer)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            if encoding.ids:
                out[row] = self.vectors[encoding.ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


_default: StaticEmbedder | None = None
_lock = threading.Lock()


def default_embedder() -> StaticEmbedder:
    """Loaded once per process (about 0.5 s, 33 MB of float32 vectors)."""
    global _default
    with _lock:
        if _default is None:
            _default = StaticEmbedder.from_package()
        return _default
