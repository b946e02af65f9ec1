"""Sweeper function (on a schedule): re-queue, then fail, jobs stuck in flight."""

from __future__ import annotations

from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics
from docjobs.services.sweeper import sweep


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return sweep(get_container()).to_dict()
