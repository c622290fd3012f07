"""The one compiled part of unspin: the n-gram hot path (unspin/_trigram.c, issue 15).

Everything else is in pyproject.toml.  The extension is optional: without a C compiler the
install still succeeds and unspin runs the same code in Python, slower (NGramLM says which).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "unspin._trigram",
            ["unspin/_trigram.c"],
            libraries=["dl"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
