"""`python -m tests.bench [name ...]`: run the named benchmarks, or all of them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and not m.name.endswith("_support")
    )


def main(argv: list[str]) -> int:
    names = [name for arg in argv for name in arg.replace(",", " ").split()] or available()
    unknown = [name for name in names if name not in available()]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(available())}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"\n=== bench: {name} ===", flush=True)
        failed |= int(bool(module.main()))
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
