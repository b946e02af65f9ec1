"""The API function must stay lean: serving a poll never loads a parser or an engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("selectolax", "docjobs.engines", "docjobs.domain.documents", "docjobs.services.chat_runner", "moto", "uvicorn",
         "numpy", "tokenizers", "docjobs.retrieval", "docjobs.services.indexing", "docjobs.processors")


def test_importing_the_api_handler_loads_no_parser_or_engine():
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('api_app', {str(ROOT / 'functions/api/app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_poll_served_cold_never_imports_the_web_framework():
    """The fast path answers a poll; FastAPI, Starlette and Mangum load on the first other request."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('api_app', {str(ROOT / 'functions/api/app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', 'mangum', 'anyio'})))\n"
    )
    env = {**os.environ, "JOBS_TABLE": "t", "ACCOUNTS_TABLE": "a", "WORK_QUEUE_URL": "q", "DOCUMENTS_BUCKET": "b"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
