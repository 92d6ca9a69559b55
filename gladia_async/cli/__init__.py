"""The command line's building blocks: output formats, progress, commands, the demo.

The entry point is `gladia_async._cli:main`; these modules are private to it and use only
the package's public API.
"""
