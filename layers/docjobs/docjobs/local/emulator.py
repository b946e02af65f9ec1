"""Fidelity fixes (and an outbox) for the in-process AWS emulator (moto).

1. Atomicity. DynamoDB checks a condition and writes an item as one atomic step; moto does not
   lock, so two threads can both pass a condition and both write. Our correctness rests on that
   atomicity (cancel vs. complete, two approvals), so the local stack and the tests serialise
   moto's DynamoDB item operations with one lock, as DynamoDB itself serialises writes to an item.
2. Transaction cost. For rollback, moto deep-copies every table a transaction touches, so each
   transaction costs time in proportion to everything stored: a batch whose children each commit
   one slowed to a crawl. Here a transaction snapshots only the items it touches, and puts those
   back if it is cancelled; what it costs then depends on the transaction, as in DynamoDB.
3. Per-call cost. moto answers DynamoDB item operations by walking botocore's shape model for
   every attribute of every item (most of a GetItem's time), its server finds the service of each
   request by listing its own package directory, and its SQS reads a slow clock twice per queued
   message on every send and receive. Items are JSON-encoded directly (the same bytes; a test
   holds the two equal), the service is looked up once per host, expressions are parsed once and
   the clock is read cheaply, so that the local stack's pace is set by docjobs, not by the
   emulator's bookkeeping. Likewise, an item's attributes become plain JSON (for stream records:
   old and new images on every write) without moto's deep copy at every level of nesting; moto's
   Flask apps leave debug mode (which built a new class for every request); and its Step Functions
   interpreter parses each JSONPath once (it built a new parser, tables and all, for every path of
   every state it ran). An update measures the item against the 400 KB limit without copying it,
   and validates its expression without checks whose cost grew with the square of its length:
   both ran under the lock of fix 1, so every DynamoDB call of every worker waited on them.
"""

from __future__ import annotations

import base64
import calendar
import copy
import datetime
import functools
import json
import pickle
import threading
import time
from pathlib import Path
from typing import Any

_LOCK = threading.RLock()
_APPLIED: set[str] = set()
_OPERATIONS = (
    "put_item", "update_item", "delete_item", "get_item", "batch_write_item", "batch_get_item",
    "transact_write_items", "transact_get_items", "query", "scan",
)  # fmt: skip


def _once(fix: Any) -> Any:
    """Each fix patches moto once per process, however often the local stack, the tests and the
    benchmarks ask for it (a second patch would wrap the first)."""

    @functools.wraps(fix)
    def apply() -> None:
        with _LOCK:
            if fix.__name__ not in _APPLIED:
                fix()
                _APPLIED.add(fix.__name__)

    return apply


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB models: tables are not copied
    (transactions snapshot their own items instead); anything else is copied as before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    keys = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table_name = op.get("TableName")
        if not table_name or table_name not in backend.tables:
            continue
        if "Item" in op:
            table = backend.tables[table_name]
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None and table.range_key_attr in op["Item"]:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op.get("Key")
        if key:
            keys.append((table_name, key))
    return keys


def _item_level_transactions(original: Any) -> Any:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = []
        for table_name, key in _touched_keys(self, transact_items):
            try:
                current = self.get_item(table_name, key)
            except Exception:  # an invalid key: moto's own validation reports it
                continue
            snapshots.append((table_name, key, current.to_json()["Attributes"] if current else None))  # a fresh copy
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshots):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    return transact_write_items


def prepare_emulator() -> None:
    """Every fix below, applied once per process (the local stack, the tests, the benchmarks)."""
    make_dynamodb_atomic()
    serialize_items_directly()
    parse_update_expressions_once()
    validate_updates_cheaply()
    make_dispatch_cheap()
    make_queue_clocks_cheap()
    reuse_state_machine_clients()
    make_attribute_json_cheap()
    measure_item_size_cheaply()
    leave_debug_mode()
    parse_json_paths_once()


def keep_outbox(directory: Path) -> None:
    """Write every e-mail the emulator's SES "sends" to `directory` as JSON, so that a developer
    (or a test) can read it back: the local stand-in for an inbox."""
    from moto.ses.models import SESBackend

    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.json"):
        old.unlink()
    original = SESBackend.send_email
    if getattr(original, "_docjobs_outbox", False):
        return
    counter = iter(range(1, 10**9))

    @functools.wraps(original)
    def send_email(self, source, subject, body, destinations, *args, **kwargs):  # type: ignore[no-untyped-def]
        message = original(self, source, subject, body, destinations, *args, **kwargs)
        record = {"message_id": message.id, "from": source, "to": destinations.get("ToAddresses", []),
                  "subject": subject, "body": body}  # fmt: skip
        (directory / f"{next(counter):06d}.json").write_text(json.dumps(record, indent=2))
        return message

    send_email._docjobs_outbox = True  # type: ignore[attr-defined]
    SESBackend.send_email = send_email  # type: ignore[method-assign]


@_once
def make_queue_clocks_cheap() -> None:
    """moto's SQS asks each message whether it is visible and whether it is delayed, on every send
    and receive, through a clock that builds two datetimes per question: with 500 messages queued
    a send took 30 ms and a receive 90. The same clock, read from time.time()."""
    import moto.sqs.models as sqs

    unix_time, unix_time_millis = sqs.unix_time, sqs.unix_time_millis

    def seconds(dt: datetime.datetime | None = None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def millis(dt: datetime.datetime | None = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    sqs.unix_time, sqs.unix_time_millis = seconds, millis  # type: ignore[assignment]


_STATE_MACHINE_TASK_MODULES = [
    f"moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_{service}"
    for service in ("sqs", "dynamodb", "events", "sfn", "sns", "aws_sdk", "batch", "ecs", "glue", "unsupported")
] + ["moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"]


@_once
def reuse_state_machine_clients() -> None:
    """moto's Step Functions interpreter makes a new boto3 client for every task it runs (a tenth
    of a 1,000-child batch_parse's time); clients are thread-safe and alike, so one per service
    and region is made and reused."""
    import importlib

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client

    make = boto_client.boto_client_for
    made: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, boto_client.botocore_stubber.enabled, boto_client.moto_server_port())
        with lock:
            if key not in made:
                made[key] = make(region, service, state_credentials)
            return made[key]

    boto_client.boto_client_for = boto_client_for  # type: ignore[assignment]
    for name in _STATE_MACHINE_TASK_MODULES:  # each imported the function by name
        module = importlib.import_module(name)
        if getattr(module, "boto_client_for", None) is make:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


@_once
def make_dispatch_cheap() -> None:
    """moto's server finds the service of every request by listing its own package directory
    (hundreds of stat calls) and trying every service's URL patterns, and its operation by listing
    the members of the service's handler class; neither answer ever changes, so each is worked
    out once."""
    import moto.backends as backends
    import moto.core.responses as responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    names_of = responses.method_names_from_class
    known: dict[type, frozenset[str]] = {}

    def method_names_from_class(cls: type) -> frozenset[str]:
        if cls not in known:
            known[cls] = frozenset(names_of(cls))
        return known[cls]

    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
    find = DomainDispatcherApplication.get_backend_for_host
    found: dict[Any, Any] = {}

    @functools.wraps(find)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in found:
            found[host] = find(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


# Operations whose results moto already holds in wire form (strings, numbers as strings, lists and
# maps): JSON-encoding them directly gives the bytes its shape-walking serializer gives, at a
# fraction of the cost. By service: its response handler, and the operations.
_WIRE_FORM_OPERATIONS = {
    "dynamodb": ("moto.dynamodb.responses.DynamoHandler", frozenset({
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems"})),
    "dynamodbstreams": ("moto.dynamodbstreams.responses.DynamoDBStreamsHandler", frozenset({"GetRecords"})),
}  # fmt: skip


@functools.cache
def _output_members(service: str, action: str) -> frozenset[str]:
    """What the operation's response may hold: moto keeps some bookkeeping beside it."""
    from moto.core.utils import get_service_model

    return frozenset(get_service_model(service).operation_model(action).output_shape.members)


def _wire_value(value: Any) -> Any:
    if isinstance(value, bytes):  # B and BS attributes: base64 on the wire
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):  # stream records' creation times: epoch seconds, to the ms
        seconds = calendar.timegm(value.timetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(type(value).__name__)


@_once
def serialize_items_directly() -> None:
    import importlib

    from moto.core.responses import ActionResult

    for service, (handler_path, operations) in _WIRE_FORM_OPERATIONS.items():
        module, _, name = handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module), name)
        handler.serialized = _direct_serializer(handler.serialized, service, operations, ActionResult)


def _direct_serializer(original: Any, service: str, operations: frozenset[str], plain_result: type) -> Any:
    @functools.wraps(original)
    def serialized(self: Any, action_result: Any) -> Any:
        result, action = action_result.result, self._get_action()
        if isinstance(action_result, plain_result) and type(action_result).execute_result is plain_result.execute_result \
                and isinstance(result, dict) and action in operations:  # fmt: skip
            members = _output_members(service, action)
            try:
                body = json.dumps({k: v for k, v in result.items() if k in members}, separators=(",", ":"), default=_wire_value)
            except TypeError:  # something not in wire form after all: moto's own serializer
                return original(self, action_result)
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
        return original(self, action_result)

    return serialized


@_once
def parse_update_expressions_once() -> None:
    """moto parses an update expression up to three times a call and validates it on a deep copy
    of its syntax tree; both cost more than the rest of the update. Each distinct expression text
    is parsed once. moto only reads the tree it parses (it looks for clauses in it), so that tree
    is shared; the copy it validates (and changes) is each call's own, unpickled from the parse
    (six times cheaper than parsing or deep-copying)."""
    import moto.dynamodb.parsing.validators as validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    parse = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]

    @functools.lru_cache(maxsize=4096)
    def pickled_tree(expression: str) -> bytes | None:
        tree = parse(UpdateExpressionParser, expression)  # a malformed expression raises moto's own error
        try:
            return pickle.dumps(tree)
        except (pickle.PicklingError, TypeError, AttributeError):
            return None

    def tree_of(expression: str) -> Any:
        pickled = pickled_tree(expression)
        tree = pickle.loads(pickled) if pickled is not None else parse(UpdateExpressionParser, expression)
        tree._docjobs_expression = expression
        return tree

    @functools.lru_cache(maxsize=4096)
    def make(cls: Any, expression: str) -> Any:
        return tree_of(expression)

    def deepcopy(value: Any, memo: Any = None) -> Any:
        expression = getattr(value, "_docjobs_expression", None)
        return tree_of(expression) if expression is not None else copy.deepcopy(value, memo)

    UpdateExpressionParser.make = classmethod(make)  # type: ignore[method-assign,assignment]
    validators.deepcopy = deepcopy  # type: ignore[assignment]


@_once
def validate_updates_cheaply() -> None:
    """moto validates an update expression by walking its syntax tree once per check (ten walks),
    and on every node asks the check for its node types, which builds a new dict each time. Two
    checks (at most one clause of each kind; no path updated twice) run at every clause node and
    search the whole subtree there, so their cost grows with the square of the expression. The
    node types are now asked once per check class (they are classes, fixed per check), and those
    two checks run at the root first: what they find below any node they also find from the root,
    so if the root passes, every node does; if it does not, moto's own walk runs, raising exactly
    the error it raised before."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, UpdateExpression

    node_types: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        kind = type(self)
        if kind not in node_types:
            node_types[kind] = tuple(self._processing_map())
        return node_types[kind]

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]

    for check in (validators.ActionCountValidator, validators.OverlappingPathsValidator):
        walk = check.traverse

        def traverse(self: Any, node: Any, __walk: Any = walk) -> Any:
            if isinstance(node, UpdateExpression):
                try:
                    self.process(node)  # reads the tree, changes nothing
                    return node
                except Exception:
                    pass
            return __walk(self, node)

        check.traverse = traverse  # type: ignore[method-assign]


@_once
def make_dynamodb_atomic() -> None:
    """One DynamoDB request at a time, from reading it to writing its response: the response is
    made from the stored items themselves (update_item's, get_item's), which another request's
    update would otherwise change as they are read ("dictionary changed size during iteration",
    seen when a cancel raced a job's completion)."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    handle = DynamoHandler.call_action

    @functools.wraps(handle)
    def one_at_a_time(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with _LOCK:
            return handle(self, *args, **kwargs)

    DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]

    models.copy = _NoTableCopies()  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = _item_level_transactions(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    for name in _OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            with _LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)


@_once
def make_attribute_json_cheap() -> None:
    """moto's DynamoType.to_regular_json deep-copies its value and then converts each nested value,
    which deep-copies it again: a map n levels deep is copied n times. The same plain JSON, built
    once (a test holds the two equal and unshared with the item)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    def to_regular_json(self: Any) -> dict[str, Any]:
        value = self.value
        if isinstance(value, dict):
            value = {k: v.to_regular_json() if isinstance(v, DynamoType) else copy.deepcopy(v) for k, v in value.items()}
        elif isinstance(value, list):
            value = [v.to_regular_json() if isinstance(v, DynamoType) else copy.deepcopy(v) for v in value]
        elif self.is_binary() and isinstance(value, str):
            value = base64.b64decode(value)
        return {self.type: value}

    to_regular_json.__wrapped__ = DynamoType.to_regular_json  # type: ignore[attr-defined]
    DynamoType.to_regular_json = to_regular_json  # type: ignore[method-assign]


@_once
def measure_item_size_cheaply() -> None:
    """moto checks DynamoDB's 400 KB item limit each time it sets an attribute, by measuring the
    whole item with DynamoType.size, whose map branch wraps every value in a new DynamoType (and
    that wrapping copies the whole subtree below it): an update of nine attributes of a job
    measured the job nine times, over half of the update's time. The same measure and limit,
    computed without the copies (a test holds the sizes equal to moto's on nested items)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def attribute_size(value: Any) -> int:
        if type(value) is not DynamoType:
            value = DynamoType(value)
        kind, raw = value.type, value.value
        if kind == "N":
            return len(str(raw))
        if kind == "M":
            return sum(bytesize(k) + attribute_size(v) for k, v in raw.items())
        if kind == "L":
            return sum(attribute_size(v) for v in raw)
        if kind in ("SS", "NS", "BS"):
            return sum(len(str(v)) if kind == "NS" else bytesize(v) for v in raw)
        if isinstance(raw, bool):
            return 1
        return bytesize(raw)

    def __setitem__(self: Any, key: str, value: Any) -> None:
        current = sum(
            bytesize(str(k)) + (attribute_size(v) if type(v) is DynamoType else bytesize(str(v))) for k, v in self.items()
        )
        new = bytesize(key) + (attribute_size(value) if type(value) is DynamoType else bytesize(str(value)))
        if current + new > 405000:  # moto's limit, as in its own check
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    __setitem__.__wrapped__ = LimitedSizeDict.__setitem__  # type: ignore[attr-defined]
    __setitem__.attribute_size = attribute_size  # type: ignore[attr-defined]  # for the test against DynamoType.size
    LimitedSizeDict.__setitem__ = __setitem__  # type: ignore[method-assign,assignment]


@_once
def leave_debug_mode() -> None:
    """moto turns on Flask's debug mode for each service's app, and in it Flask builds a new class
    for every request's form data (to explain a missing enctype): out of debug mode. An error in
    moto still answers 500, as before."""
    from moto.moto_server import threaded_moto_server, werkzeug_app

    original = werkzeug_app.create_backend_app

    @functools.wraps(original)
    def create_backend_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.debug = False
        return app

    werkzeug_app.create_backend_app = create_backend_app  # type: ignore[assignment]
    threaded_moto_server.create_backend_app = create_backend_app  # type: ignore[attr-defined]  # imported by name there


@_once
def parse_json_paths_once() -> None:
    """moto's Step Functions interpreter calls jsonpath_ng's `parse` for every path of every state
    it runs, and each call builds a new parser. A parsed path is only read (`find`, `update` change
    the data, not the path), so one per path text serves every state and thread."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        module.parse = functools.lru_cache(maxsize=1024)(module.parse)  # type: ignore[attr-defined]
