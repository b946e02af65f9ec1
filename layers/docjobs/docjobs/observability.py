"""Powertools Logger, Metrics and Tracer: one of each per process, configured by environment
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_TRACE_DISABLED, ...)."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A poll publishes no business metric, and that is fine: don't warn on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="docjobs")
metrics = Metrics(namespace="docjobs", service="docjobs")
tracer = Tracer(service="docjobs")
