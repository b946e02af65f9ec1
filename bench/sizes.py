"""Deployment size, unzipped, as Lambda counts it (function code plus its layers, limit 250 MB):
each layer is built for the target (arm64, Python 3.13) the way `sam build` builds it, into a
temporary folder. Needs PyPI. Goals: the API function under 50 MB, the worker under 150 MB."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {"ApiFunction": ("functions/api", ["docjobs"]), "WorkerFunction": ("functions/worker", ["docjobs", "documents"]),
             "IndexFunction": ("functions/worker", ["docjobs", "documents"]), "EventsFunction": ("functions/events", ["docjobs"]),
             "WebhookFunction": ("functions/webhooks", ["docjobs"]), "SweeperFunction": ("functions/sweeper", ["docjobs"])}  # fmt: skip


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build_layers(into: Path) -> dict[str, Path]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    layers = {}
    for name, layer in (("docjobs", "DocjobsLayer"), ("documents", "DocumentsLayer")):
        layers[name] = into / name
        subprocess.run(["make", "-s", "-C", str(ROOT / "layers" / name), f"build-{layer}", f"ARTIFACTS_DIR={layers[name]}"],
                       check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    return layers


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            layers = build_layers(Path(tmp))
        except subprocess.CalledProcessError as error:
            return {"error": f"could not build the layers (is PyPI reachable?): {error}"}
        layer_mb = {name: round(size_of(path) / 1e6, 1) for name, path in layers.items()}
        functions = {}
        for name, (code, uses) in FUNCTIONS.items():
            total = size_of(ROOT / code) / 1e6 + sum(layer_mb[layer] for layer in uses)
            functions[name] = round(total, 1)
        return {"layers_mb": layer_mb, "functions_mb": functions}


def report(r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"\ndeployment size: {r['error']}")
        return
    print("\n| deployment size, unzipped (arm64, Python 3.13) | MB | goal |")
    print("|---|---|---|")
    goals = {"ApiFunction": "under 50", "WorkerFunction": "under 150", "IndexFunction": "under 150"}
    for name, mb in r["functions_mb"].items():
        print(f"| {name} with its layers | {mb} | {goals.get(name, '')} |")
    print(f"| (layers: docjobs {r['layers_mb']['docjobs']}, documents {r['layers_mb']['documents']}) | | |")


if __name__ == "__main__":
    report(run())
