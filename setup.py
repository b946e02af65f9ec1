"""The compiled parts: the HTML parser's walk over lexbor's tree (formats/_htmlwalk.c) and token
counting (_tokens.c). Optional: where they cannot be built, their Python references run (the same
results, slower)."""

from setuptools import Extension, setup

FLAGS = ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        Extension(f"docjobs.processors.{name}", [f"layers/docjobs/docjobs/processors/{name.replace('.', '/')}.c"],
                  extra_compile_args=FLAGS, optional=True)  # fmt: skip
        for name in ("formats._htmlwalk", "_tokens")
    ]
)
