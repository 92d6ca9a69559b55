"""`python -m gladia_async`: the same command line as the `gladia-async` script."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
