"""Creates the template's tables, queues and buckets on the emulator, and describes its functions
(code, handler, environment, event sources) for the local runner."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docjobs.local.template import Resolver, load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class SqsSource:
    queue_url: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class StreamSource:
    stream_arn: str
    batch_size: int
    report_batch_item_failures: bool
    starting_position: str


@dataclass
class LocalFunction:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    sqs_sources: list[SqsSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    schedules: list[int] = field(default_factory=list)  # seconds between scheduled invocations
    serves_api: bool = False

    def to_json(self) -> dict[str, Any]:
        """This function, as JSON for another process of the local stack."""
        return {**asdict(self), "code_dir": str(self.code_dir)}

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> LocalFunction:
        return cls(**{**spec, "code_dir": Path(spec["code_dir"]),
                      "sqs_sources": [SqsSource(**s) for s in spec["sqs_sources"]],
                      "stream_sources": [StreamSource(**s) for s in spec["stream_sources"]]})  # fmt: skip


@dataclass
class Stack:
    resolver: Resolver
    functions: dict[str, LocalFunction]
    outputs: dict[str, str]

    @property
    def environment(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for function in self.functions.values():
            merged.update(function.environment)
        return merged


def provision(template_path: Path, clients: dict[str, Any], stack_name: str = "docjobs-local") -> Stack:
    template = load_template(template_path)
    root = template_path.parent
    parameters = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    resolver = Resolver(
        parameters=parameters,
        pseudo={"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": stack_name,
                "AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws"},  # fmt: skip
    )
    resources: dict[str, Any] = template["Resources"]

    # Queues that others name as dead-letter targets first, then the rest: order by dependency.
    deferred: list[tuple[str, dict]] = []  # state machines: after the queues they name
    ordered = sorted(resources.items(), key=lambda kv: 0 if "RedrivePolicy" not in kv[1].get("Properties", {}) else 1)
    for logical, resource in ordered:
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            _create_table(clients["dynamodb"], resolver, logical, props, stack_name)
        elif kind == "AWS::SQS::Queue":
            _create_queue(clients["sqs"], resolver, logical, props, stack_name)
        elif kind == "AWS::S3::Bucket":
            _create_bucket(clients["s3"], resolver, logical, props, stack_name)
        elif kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            deferred.append((logical, props))
        elif kind == "AWS::SES::EmailIdentity":
            identity = str(resolver.resolve(props["EmailIdentity"]))
            clients["ses"].verify_email_identity(EmailAddress=identity)
            resolver.refs[logical] = identity
        elif kind == "AWS::Events::EventBus":
            name = str(resolver.resolve(props["Name"]))
            arn = clients["events"].create_event_bus(Name=name)["EventBusArn"]
            resolver.refs[logical] = name
            resolver.attributes[(logical, "Arn")] = arn
            resolver.attributes[(logical, "Name")] = name
        elif kind == "AWS::Serverless::LayerVersion":
            resolver.refs[logical] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{logical}:1"

    for logical, props in deferred:
        _create_state_machine(clients["stepfunctions"], resolver, logical, props, stack_name)

    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    global_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    functions: dict[str, LocalFunction] = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
        function = LocalFunction(
            logical_id=logical,
            code_dir=root / props["CodeUri"],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", global_timeout)),
            environment={k: str(resolver.resolve(v)) for k, v in env.items()},
        )
        for event in props.get("Events", {}).values():
            if event["Type"] == "SQS":
                arn = resolver.resolve(event["Properties"]["Queue"])
                function.sqs_sources.append(
                    SqsSource(
                        queue_url=_queue_url_from_arn(clients["sqs"], arn),
                        batch_size=int(event["Properties"].get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in event["Properties"].get("FunctionResponseTypes", []),
                    )
                )
            elif event["Type"] == "Api":
                function.serves_api = True
            elif event["Type"] == "DynamoDB":
                properties = event["Properties"]
                function.stream_sources.append(
                    StreamSource(
                        stream_arn=resolver.resolve(properties["Stream"]),
                        batch_size=int(properties.get("BatchSize", 100)),
                        report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                        starting_position=properties.get("StartingPosition", "LATEST"),
                    )
                )
            elif event["Type"] == "Schedule":
                function.schedules.append(rate_seconds(event["Properties"]["Schedule"]))
        functions[logical] = function

    outputs = {}
    for name, output in template.get("Outputs", {}).items():
        try:
            outputs[name] = str(resolver.resolve(output["Value"]))
        except KeyError:  # an output about a resource that exists only on AWS (the REST API)
            continue
    return Stack(resolver=resolver, functions=functions, outputs=outputs)


def rate_seconds(expression: str) -> int:
    """`rate(5 minutes)` -> 300 (the local stack runs rate schedules; cron ones need AWS)."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"the local stack runs rate(...) schedules only, not {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def _physical(stack_name: str, logical: str) -> str:
    return f"{stack_name}-{logical}"


def _create_table(client: Any, resolver: Resolver, logical: str, props: dict, stack_name: str) -> None:
    name = _physical(stack_name, logical)
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if gsis := props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = gsis
    if stream := props.get("StreamSpecification"):
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    description = client.create_table(**params)["TableDescription"]
    if ttl := props.get("TimeToLiveSpecification"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": bool(ttl["Enabled"]), "AttributeName": ttl["AttributeName"]}
        )
    resolver.refs[logical] = name
    resolver.attributes[(logical, "Arn")] = description["TableArn"]
    if "LatestStreamArn" in description:
        resolver.attributes[(logical, "StreamArn")] = description["LatestStreamArn"]


def _create_queue(client: Any, resolver: Resolver, logical: str, props: dict, stack_name: str) -> None:
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
        if key in props:
            attributes[key] = str(props[key])
    if redrive := props.get("RedrivePolicy"):
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": resolver.resolve(redrive["deadLetterTargetArn"]),
             "maxReceiveCount": str(redrive["maxReceiveCount"])}  # fmt: skip
        )
    url = client.create_queue(QueueName=_physical(stack_name, logical), Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    resolver.refs[logical] = url
    resolver.attributes[(logical, "Arn")] = arn
    resolver.attributes[(logical, "QueueName")] = _physical(stack_name, logical)


def _create_bucket(client: Any, resolver: Resolver, logical: str, props: dict, stack_name: str) -> None:
    name = _physical(stack_name, logical).lower()
    client.create_bucket(Bucket=name)
    if lifecycle := props.get("LifecycleConfiguration"):
        rules = [
            {"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")},
             "Expiration": {"Days": int(r["ExpirationInDays"])}}  # fmt: skip
            for r in lifecycle["Rules"]
            if "ExpirationInDays" in r
        ]
        if rules:
            client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    resolver.refs[logical] = name
    resolver.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"


def _create_state_machine(client: Any, resolver: Resolver, logical: str, props: dict, stack_name: str) -> None:
    definition = json.dumps(props["Definition"])
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(resolver.resolve(value)))
    name = str(resolver.resolve(props.get("Name") or _physical(stack_name, logical)))
    arn = client.create_state_machine(
        name=name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", type=props.get("Type", "STANDARD")
    )["stateMachineArn"]
    resolver.refs[logical] = arn
    resolver.attributes[(logical, "Arn")] = arn
    resolver.attributes[(logical, "Name")] = name


def _queue_url_from_arn(client: Any, arn: str) -> str:
    return client.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
