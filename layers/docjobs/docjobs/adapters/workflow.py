"""Step Functions: the batch_parse state machine."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from docjobs.observability import logger


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str, client: Any) -> None:
        self.state_machine_arn = state_machine_arn
        self.client = client

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named `name` (one per job: a retried start cannot run a batch twice)."""
        try:
            return self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self.client.stop_execution(executionArn=execution_arn, error="Cancelled", cause=cause)
        except ClientError as error:  # already finished: nothing to stop
            logger.info("stop_execution refused", extra={"error": error.response["Error"]["Code"]})

    def answer(self, task_token: str, output: dict[str, Any]) -> None:
        """Tell the waiting state that the task is done. A token whose execution has ended (a
        redelivered message, a cancelled batch) is refused, harmlessly."""
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ExecutionDoesNotExist"):
                raise
            logger.info("task token no longer wanted", extra={"error": code})
