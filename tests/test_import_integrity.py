"""The whole-project import check that stops a native rewrite from breaking `from x import name`."""

from __future__ import annotations

from asgi_migrate.cli.import_integrity import broken_imports


def test_a_name_removed_from_a_rewritten_module_is_caught_in_its_importers() -> None:
    sources = {
        "app/storage.py": ("app.storage", False, "import aioboto3\nsession = aioboto3.Session()\n"),
        "app/main.py": ("app.main", False, "from app.storage import s3, session\nfrom .storage import open_s3\n"),
        "app/__init__.py": ("app", True, ""),
    }
    assert broken_imports(sources, ["app/storage.py"]) == [
        "app/main.py:1 imports `s3` from app.storage, which the rewrite no longer defines",
        "app/main.py:2 imports `open_s3` from app.storage, which the rewrite no longer defines",
    ]


def test_names_bound_in_conditional_blocks_imports_and_submodules_count() -> None:
    sources = {
        "pkg/__init__.py": ("pkg", True, "try:\n    import ujson as json\nexcept ImportError:\n    json = None\n"
                                         "if True:\n    def helper():\n        pass\n"),
        "pkg/sub.py": ("pkg.sub", False, ""),
        "pkg/use.py": ("pkg.use", False, "from pkg import json, helper, sub\nfrom . import helper as h\n"),
    }
    assert broken_imports(sources, ["pkg/__init__.py"]) == []


def test_star_imports_are_not_guessed() -> None:
    sources = {
        "m.py": ("m", False, "from os.path import *\n"),
        "n.py": ("n", False, "from m import join\n"),
    }
    assert broken_imports(sources, ["m.py"]) == []


def test_with_the_old_sources_only_names_the_rewrite_removed_are_reported() -> None:
    old_storage = "import boto3\ns3 = boto3.client('s3')\nsession = None\ndef open_s3():\n    return s3\n"
    sources = {
        "app/storage.py": ("app.storage", False, "import aioboto3\nsession = aioboto3.Session()\n"
                                                 "def open_s3():\n    return session\n"),
        # `missing` was never defined: broken before the rewrite, not reported as the rewrite's doing
        "app/main.py": ("app.main", False, "from app.storage import s3, session, missing\n"),
        "app/other.py": ("app.other", False, "from app.storage import open_s3\n"),
    }
    assert broken_imports(sources, ["app/storage.py"], {"app/storage.py": old_storage}) == [
        "app/main.py:1 imports `s3` from app.storage, which the rewrite no longer defines",
    ]


def test_with_the_old_sources_nothing_removed_means_nothing_to_check() -> None:
    sources = {
        "a.py": ("a", False, "import httpx\nclient = httpx.AsyncClient()\n"),
        "b.py": ("b", False, "from a import client, nothing_here\n"),
    }
    assert broken_imports(sources, ["a.py"], {"a.py": "import requests\nclient = requests.Session()\n"}) == []


def test_a_rewritten_file_importing_a_missing_name_is_still_caught() -> None:
    sources = {
        "a.py": ("a", False, "x = 1\n"),
        "b.py": ("b", False, "from a import y\n"),
    }
    assert broken_imports(sources, ["b.py"], {"b.py": "from a import x\n"}) == [
        "b.py:1 imports `y` from a, which the rewrite no longer defines",
    ]
