"""pytest plugin loaded by ``asgi-migrate verify`` (through ``PYTEST_PLUGINS``): test ids for the probe.

Why a plugin at all: the probe (``verify_sitecustomize``) already records every blocking call and loop
lag in the process; the plugin only tells it which test is running, so each record and lag sample is
attributed to a test id, and writes the results when pytest finishes (before interpreter teardown,
where daemon threads may still be running). It uses no fixture of the project's and works whether or
not the project uses blockbuster itself.

Like the probe, it is copied next to the generated ``sitecustomize`` (as
``_asgi_migrate_verify_plugin``) and imports the probe by its copied name, so it needs no installed
asgi-migrate in the command's interpreter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

try:
    import _asgi_migrate_verify as probe  # the copy verify puts on PYTHONPATH
except ImportError:  # pragma: no cover - loaded from the installed package (``-p``)
    from asgi_migrate.cli import verify_sitecustomize as probe  # type: ignore[no-redef]


def pytest_configure(config: pytest.Config) -> None:
    # sitecustomize normally installed the probe already; under ``python -S`` it did not.
    probe.install_from_env()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    previous = probe.set_test(item.nodeid)  # an inline pytester run nests inside an outer test
    try:
        yield
    finally:
        probe.set_test(previous)


def pytest_unconfigure(config: pytest.Config) -> None:
    probe.flush()
