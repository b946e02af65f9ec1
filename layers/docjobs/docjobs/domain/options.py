"""Options each document operation accepts (validated when the job is created, so a bad option
is a 422 at once rather than a failed job later)."""

from __future__ import annotations

from typing import Any, Literal

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


OPTIONS_FOR: dict[str, type[Options]] = {
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
