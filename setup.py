"""The one compiled part: the HTML parser's walk over lexbor's tree (see _htmlwalk.c). Optional:
where it cannot be built, formats/html.py walks the tree in Python (the same blocks, slower)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "docjobs.processors.formats._htmlwalk",
            ["layers/docjobs/docjobs/processors/formats/_htmlwalk.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
