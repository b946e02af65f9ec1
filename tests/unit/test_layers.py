"""The Lambda layers pin what pyproject.toml pins, and the API's layer carries no parser."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)")


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if match := PIN.match(line.strip().strip('",')):
            found[match[1].lower().replace("_", "-")] = match[3]
    return found


def test_layers_pin_the_versions_the_project_pins_and_split_the_heavy_ones_off():
    project = pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    core = pins((ROOT / "layers/docjobs/requirements.txt").read_text().splitlines())
    documents = pins((ROOT / "layers/documents/requirements.txt").read_text().splitlines())
    for name, version in {**core, **documents}.items():
        assert project.get(name) == version, f"{name}: layer {version}, pyproject {project.get(name)}"
    assert set(core) | set(documents) == set(project) - {"boto3"}  # boto3 comes with the Lambda runtime
    assert not {"numpy", "tokenizers", "wordllama", "pypdfium2", "selectolax"} & set(core)
