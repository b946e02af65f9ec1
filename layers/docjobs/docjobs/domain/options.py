"""Options each document operation accepts (validated when the job is created, so a bad option
is a 422 at once rather than a failed job later)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from docjobs.domain.indexes import (
    INDEX_NAME,
    INDEX_NAME_RULE,
    ITEM_ID,
    MAX_ITEM_CHARS,
    MAX_ITEM_METADATA_BYTES,
    MAX_ITEMS_PER_JOB,
    MAX_QUESTION_CHARS,
    MAX_SOURCES_PER_JOB,
    MAX_TOP_K,
)


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChunkOptions(Options):
    strategy: Literal["tokens", "heading", "sentence"] = "tokens"
    max_tokens: int = Field(default=512, ge=16, le=8192, description="tokens: chunk size; heading: largest section")
    overlap_tokens: int = Field(default=64, ge=0, le=4096)
    sentences_per_chunk: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkOptions:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError("overlap_tokens must be smaller than max_tokens")
        return self


class ParseOptions(Options):
    chunking: ChunkOptions = Field(default_factory=ChunkOptions)


class ExtractOptions(Options):
    schema_: dict[str, Any] = Field(alias="schema", description="A JSON Schema object with typed properties.")

    @field_validator("schema_")
    @classmethod
    def _an_object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
            raise ValueError('schema must be {"type": "object", "properties": {...}} with at least one property')
        for name, spec in schema["properties"].items():
            if not isinstance(spec, dict):
                raise ValueError(f"schema property {name!r} must be an object")
        required = schema.get("required", [])
        if not isinstance(required, list) or any(r not in schema["properties"] for r in required):
            raise ValueError("schema.required must list properties of the schema")
        return schema


class SummarizationOptions(Options):
    sentences: int = Field(default=5, ge=1, le=50)


class Label(Options):
    name: StrictStr = Field(min_length=1, max_length=100)
    description: StrictStr | None = Field(default=None, max_length=1000)


class ClassifyOptions(Options):
    labels: list[Label | StrictStr] = Field(min_length=2, max_length=50)

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[Label | str]) -> list[Label | str]:
        names = [label if isinstance(label, str) else label.name for label in labels]
        if len(set(names)) != len(names):
            raise ValueError("label names must be unique")
        return labels


class SplitOptions(Options):
    ranges: list[tuple[int, int]] | None = Field(default=None, max_length=500, description="1-based inclusive page ranges")
    detect: StrictBool = Field(default=True, description="Without ranges: detect where each document starts")

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, ranges: list[tuple[int, int]] | None) -> list[tuple[int, int]] | None:
        for first, last in ranges or []:
            if first < 1 or last < first:
                raise ValueError("each range is [first, last] with 1 <= first <= last")
        return ranges


IndexName = Annotated[StrictStr, Field(pattern=f"^{INDEX_NAME.pattern}$", description=INDEX_NAME_RULE)]
SourceIds = Annotated[list[Annotated[StrictStr, Field(max_length=100)]], Field(max_length=MAX_SOURCES_PER_JOB)]


class IndexChunkOptions(ChunkOptions):
    """Smaller chunks than parse's default: a passage that answers a question should not be
    diluted by a page of neighbours."""

    max_tokens: int = Field(default=256, ge=16, le=2048)
    overlap_tokens: int = Field(default=32, ge=0, le=1024)


class CreateIndexOptions(Options):
    index: IndexName
    chunking: IndexChunkOptions = Field(default_factory=IndexChunkOptions)


class UpdateIndexOptions(Options):
    index: IndexName
    add: SourceIds = Field(default_factory=list, description="Sources to add, or to index again")
    remove: SourceIds = Field(default_factory=list, description="Sources (or vector_store items' source_id) to remove")
    remove_items: list[Annotated[StrictStr, Field(pattern=f"^{ITEM_ID.pattern}$")]] = Field(default_factory=list, max_length=MAX_ITEMS_PER_JOB)

    @model_validator(mode="after")
    def _disjoint(self) -> UpdateIndexOptions:
        both = set(self.add) & set(self.remove)
        if both:
            raise ValueError(f"a source cannot be both added and removed: {sorted(both)[:3]}")
        return self


class VectorItem(Options):
    id: StrictStr | None = Field(default=None, pattern=f"^{ITEM_ID.pattern}$", description="Yours; the same id replaces the item")
    text: StrictStr = Field(min_length=1, max_length=MAX_ITEM_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict, description="source_id, filename, page and heading_path are cited")

    @field_validator("metadata")
    @classmethod
    def _small_and_plain(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(metadata, default=str)) > MAX_ITEM_METADATA_BYTES:
            raise ValueError(f"metadata is limited to {MAX_ITEM_METADATA_BYTES} bytes of JSON")
        for key, value in metadata.items():
            scalar = (str, int, float, bool, type(None))
            if not isinstance(value, scalar) and not (isinstance(value, list) and all(isinstance(v, scalar) for v in value)):
                raise ValueError(f"metadata.{key} must be a string, number, boolean, null or a list of them")
        if "page" in metadata and not (isinstance(metadata["page"], int) and metadata["page"] >= 1):
            raise ValueError("metadata.page must be a page number (1 or more)")
        if "heading_path" in metadata and not isinstance(metadata["heading_path"], list):
            raise ValueError("metadata.heading_path must be a list of headings")
        return metadata


class VectorStoreOptions(Options):
    index: IndexName
    items: list[VectorItem] = Field(min_length=1, max_length=MAX_ITEMS_PER_JOB)

    @field_validator("items")
    @classmethod
    def _unique_ids(cls, items: list[VectorItem]) -> list[VectorItem]:
        ids = [i.id for i in items if i.id]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique within a request")
        return items


class ResearchOptions(Options):
    index: IndexName
    question: StrictStr = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K, description="Passages returned")
    source_ids: SourceIds | None = Field(default=None, description="Search only these sources")
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid"
    answer_sentences: int = Field(default=3, ge=1, le=10)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, question: str) -> str:
        if not question.strip():
            raise ValueError("question must not be blank")
        return question.strip()


OPTIONS_FOR: dict[str, type[Options]] = {
    "create_index": CreateIndexOptions,
    "update_index": UpdateIndexOptions,
    "vector_store": VectorStoreOptions,
    "research": ResearchOptions,
    "parse": ParseOptions,
    "chunk": ChunkOptions,
    "extract": ExtractOptions,
    "summarization": SummarizationOptions,
    "classify": ClassifyOptions,
    "split": SplitOptions,
}


def describe(error: ValidationError) -> str:
    """A validation error as one readable line: where, and what is wrong."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in error.errors()[:5])


def normalize_options(operation: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in, as the processor receives them (raises ValueError)."""
    model = OPTIONS_FOR[operation].model_validate(raw)
    data = model.model_dump(by_alias=True, exclude_none=True)
    if operation == "classify":
        data["labels"] = [{"name": x} if isinstance(x, str) else x for x in data["labels"]]
    return data
