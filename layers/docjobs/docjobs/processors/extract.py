"""Extraction against a JSON Schema, offline: each property is looked for as a labelled value
("Invoice number: INV-1"), in a table row or column, then by its type's pattern (dates, amounts,
e-mails, ids). Every value says where it came from (page and character span of that page's text)
and how sure the method is; the result is validated against the schema."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docjobs.processors.base import OperationContext
from docjobs.processors.model import Block, ParsedDocument
from docjobs.processors.operations import document_info

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
AMOUNT = re.compile(r"(?:[$€£¥]|\b(?:USD|EUR|GBP|CHF)\s?)\s?-?\d{1,3}(?:[,\s]\d{3})*(?:[.,]\d{1,2})?\b|\b-?\d{1,3}(?:,\d{3})*\.\d{2}\b")
DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|"
    r"\b(?:\d{1,2}\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b|"
    r"\b\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{4}\b",
    re.I,
)
IDENTIFIER = re.compile(r"\b[A-Z]{2,}[-/]?\d[\dA-Z-]{2,}\b")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%B %d %Y", "%b %d %Y", "%d %B %Y",
                 "%d %b %Y", "%B %d, %Y", "%b %d, %Y")  # fmt: skip


@dataclass
class Found:
    value: Any
    page: int
    start: int
    end: int
    text: str
    confidence: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "page": self.page, "span": [self.start, self.end], "text": self.text,
                "confidence": self.confidence, "method": self.method}  # fmt: skip


def page_texts(parsed: ParsedDocument) -> dict[int, str]:
    """Each page's text exactly as the parse result shows it, so spans index into it."""
    out: dict[int, list[str]] = {p.number: [] for p in parsed.pages}
    for block in parsed.blocks:
        out.setdefault(block.page, []).append(block.text)
    return {page: "\n\n".join(texts) for page, texts in out.items()}


def label_variants(name: str, spec: dict[str, Any]) -> list[str]:
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").lower().split()
    variants = {" ".join(words)}
    if words and words[-1] in ("number", "num", "no", "id"):
        stem = " ".join(words[:-1])
        variants |= {f"{stem} number", f"{stem} no", f"{stem} #", f"{stem} id", f"{stem} num"} if stem else set()
    if spec.get("title"):
        variants.add(str(spec["title"]).lower())
    for alias in spec.get("x-aliases", []) or []:
        variants.add(str(alias).lower())
    return sorted((v for v in variants if v), key=len, reverse=True)


def coerce(raw: str, spec: dict[str, Any]) -> Any:
    """`raw` as the schema's type, or raise ValueError."""
    kind = spec.get("type", "string")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    text = raw.strip().strip(".,;")
    if kind in ("number", "integer"):
        match = AMOUNT.search(text) or NUMBER.search(text)
        if not match:
            raise ValueError("not a number")
        number = re.sub(r"[^\d.,\-]", "", match.group(0))
        if "," in number and "." in number:  # 1,234.56
            number = number.replace(",", "")
        elif "," in number:  # 1,234 (thousands) or 12,5 (a decimal comma)
            number = number.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", number) else number.replace(",", ".")
        digits = number
        value = float(digits)
        if kind == "integer":
            if value != int(value):
                raise ValueError("not an integer")
            return int(value)
        return value
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("yes", "true", "y", "x", "☑", "checked"):
            return True
        if lowered in ("no", "false", "n", "☐", "unchecked"):
            return False
        raise ValueError("not a boolean")
    if spec.get("format") == "date":
        match = DATE.search(text)
        if not match:
            raise ValueError("not a date")
        return parse_date(match.group(0))
    if spec.get("format") == "email":
        match = EMAIL.search(text)
        if not match:
            raise ValueError("not an e-mail")
        return match.group(0)
    if "enum" in spec:
        for option in spec["enum"]:
            if str(option).lower() == text.lower():
                return option
        raise ValueError("not one of the enum values")
    if not text:
        raise ValueError("empty")
    return text


def parse_date(text: str) -> str:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)", r"\1", text.replace(".", " " if not re.match(r"\d+\.\d+\.\d+", text) else ".")).strip()
    cleaned = " ".join(cleaned.replace(",", ", ").split()).replace(" ,", ",")
    for fmt in _DATE_FORMATS:
        for candidate in (cleaned, cleaned.replace(",", "")):
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    raise ValueError("unrecognised date")


class Extract:
    name = "extract"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        schema = ctx.options["schema"]
        pages = page_texts(parsed)
        with ctx.steps.step("extract", properties=len(schema.get("properties", {}))) as details:
            properties = schema.get("properties", {})
            fields: dict[str, Found | list[Found] | None] = {
                name: _find(name, spec, pages, parsed.blocks) for name, spec in properties.items()
            }
            # Then type patterns for what is still missing, never reusing text another field claimed.
            claimed = {(f.page, f.start) for f in fields.values() if isinstance(f, Found)}
            for name, spec in properties.items():
                if fields[name] is None and spec.get("type") != "array":
                    fields[name] = _by_pattern(name, spec, pages, claimed)
                    if isinstance(fields[name], Found):
                        claimed.add((fields[name].page, fields[name].start))  # type: ignore[union-attr]
            details["found"] = sum(1 for f in fields.values() if f)
        data = {name: _value(found) for name, found in fields.items() if found}
        errors = validate(data, schema)
        return {
            "document": document_info(ctx, parsed),
            "data": data,
            "fields": {name: (_describe(found) if found else None) for name, found in fields.items()},
            "missing": [name for name, found in fields.items() if not found],
            "valid": not errors,
            "errors": errors,
            "entities": entities(pages),
            "method": "offline-patterns",
            "warnings": parsed.warnings,
        }


def _value(found: Found | list[Found]) -> Any:
    return [f.value for f in found] if isinstance(found, list) else found.value


def _describe(found: Found | list[Found]) -> Any:
    return [f.to_dict() for f in found] if isinstance(found, list) else found.to_dict()


def _find(name: str, spec: dict[str, Any], pages: dict[int, str], blocks: list[Block]) -> Found | list[Found] | None:
    kind = spec.get("type")
    if kind == "array":
        return _find_array(name, spec, pages, blocks) or None
    labels = label_variants(name, spec)
    for finder in (_labelled, _in_tables):
        found = finder(labels, spec, pages, blocks)
        if found:
            return found
    return None


def _labelled(labels: list[str], spec: dict[str, Any], pages: dict[int, str], blocks: list[Block]) -> Found | None:
    for label in labels:
        pattern = re.compile(rf"(?im)(?:^|(?<=\s)|(?<=\|)){_label_regex(label)}\s*(?::|#|-|–|=|\bis\b)?\s*(?P<value>[^\n|]{{1,200}})")
        for page, text in pages.items():
            for match in pattern.finditer(text):
                raw = re.split(r"\s{3,}|\t", match.group("value"))[0]
                try:
                    value = coerce(raw, spec)
                except ValueError:
                    continue
                start = match.start("value")
                exact = match.group(0)[: match.start("value") - match.start()].rstrip().endswith((":", "#"))
                return Found(value, page, start, start + len(raw.rstrip()), raw.strip(), 0.9 if exact else 0.7, "label")
    return None


def _label_regex(label: str) -> str:
    return r"\s*".join(re.escape(part) for part in label.split())


def _in_tables(labels: list[str], spec: dict[str, Any], pages: dict[int, str], blocks: list[Block]) -> Found | None:
    for block in blocks:
        for row in block.rows or []:
            for i, cell in enumerate(row[:-1]):
                if cell.strip().lower().rstrip(":") in labels:
                    try:
                        value = coerce(row[i + 1], spec)
                    except ValueError:
                        continue
                    start = pages.get(block.page, "").find(row[i + 1])
                    return Found(value, block.page, max(start, 0), max(start, 0) + len(row[i + 1]), row[i + 1], 0.85, "table")
    return None


def _by_pattern(name: str, spec: dict[str, Any], pages: dict[int, str], claimed: set[tuple[int, int]]) -> Found | None:
    """A value by its type alone (an e-mail, a date, an amount): the first unclaimed match.
    Identifiers are never guessed this way: any code would do, so it would mislead."""
    lowered = name.lower()
    if spec.get("format") == "email" or "email" in lowered:
        pattern, confidence = EMAIL, 0.6
    elif spec.get("format") == "date" or "date" in lowered:
        pattern, confidence = DATE, 0.5
    elif spec.get("type") in ("number", "integer") and any(w in lowered for w in ("total", "amount", "price", "sum", "due", "cost")):
        pattern, confidence = AMOUNT, 0.4
    else:
        return None
    for page, text in pages.items():
        for match in pattern.finditer(text):
            if (page, match.start()) in claimed:
                continue
            try:
                value = coerce(match.group(0), spec)
            except ValueError:
                continue
            return Found(value, page, match.start(), match.end(), match.group(0), confidence, "pattern")
    return None


def _find_array(name: str, spec: dict[str, Any], pages: dict[int, str], blocks: list[Block]) -> list[Found]:
    items = spec.get("items", {})
    tables = [b for b in blocks if b.rows and len(b.rows) > 1]
    if items.get("type") == "object":
        wanted = items.get("properties", {})
        for table in tables:
            header = [c.strip().lower() for c in table.rows[0]]  # type: ignore[index]
            columns = {}
            for prop, prop_spec in wanted.items():
                for i, cell in enumerate(header):
                    if any(cell == v or cell.startswith(v) for v in label_variants(prop, prop_spec)):
                        columns[prop] = i
                        break
            if len(columns) >= max(1, len(wanted) // 2):
                found = []
                for row in table.rows[1:]:  # type: ignore[index]
                    record = {}
                    for prop, i in columns.items():
                        if i < len(row):
                            try:
                                record[prop] = coerce(row[i], wanted[prop])
                            except ValueError:
                                continue
                    if record:
                        text = " | ".join(row)
                        start = pages.get(table.page, "").find(text)
                        found.append(Found(record, table.page, max(start, 0), max(start, 0) + len(text), text, 0.8, "table"))
                if found:
                    return found
        return []
    pattern = {"email": EMAIL, "date": DATE}.get(items.get("format", "")) or (AMOUNT if items.get("type") in ("number",) else None)
    if pattern is None:
        labels = label_variants(name, spec)
        heading = next((i for i, b in enumerate(blocks) if b.type == "heading" and b.text.lower().rstrip(":") in labels), None)
        if heading is None:
            return []
        found = []
        for block in blocks[heading + 1 :]:
            if block.type != "list_item":
                break
            start = pages.get(block.page, "").find(block.text)
            found.append(Found(block.text, block.page, max(start, 0), max(start, 0) + len(block.text), block.text, 0.7, "list"))
        return found
    return [Found(coerce(m.group(0), items), page, m.start(), m.end(), m.group(0), 0.5, "pattern")
            for page, text in pages.items() for m in pattern.finditer(text)]  # fmt: skip


def entities(pages: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"emails": [], "dates": [], "amounts": [], "ids": []}
    for page, text in pages.items():
        for key, pattern in (("emails", EMAIL), ("dates", DATE), ("amounts", AMOUNT), ("ids", IDENTIFIER)):
            for m in pattern.finditer(text):
                if len(out[key]) < 100:
                    out[key].append({"text": m.group(0), "page": page, "span": [m.start(), m.end()]})
    return out


_TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "array": list, "object": dict}


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """The subset of JSON Schema extraction needs: type, required, enum, format, items, properties."""
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if value is None:
        return [] if "null" in kinds or not kinds else [f"{path or 'value'}: is null"]
    if kinds and not any(k != "null" and isinstance(value, _TYPES.get(k, object)) and not (k in ("number", "integer") and isinstance(value, bool)) for k in kinds):
        return [f"{path or 'value'}: expected {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path or 'value'}: not one of {schema['enum']}")
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            errors.append(f"{path or 'value'}: not a date")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path + '.' if path else ''}{name}: required but not found")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += validate(value[name], sub, f"{path + '.' if path else ''}{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors
