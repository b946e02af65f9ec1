"""Powertools Logger and Metrics: one of each per process, configured by environment
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, ...).

No X-Ray SDK (Powertools' Tracer): Lambda's active tracing records every invocation and its init
without it, and the SDK would cost every cold start about 0.4 s of imports and the layer a second
copy of botocore (31 MB)."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

# A poll publishes no business metric, and that is fine: don't warn on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="docjobs")
metrics = Metrics(namespace="docjobs", service="docjobs")
