"""The scanner reads any syntax libcst parses, whatever Python runs it."""

from __future__ import annotations

import pytest
from asgi_migrate.codemods.analysis import analyze
from asgi_migrate.codemods.summary import summarize

NEW_SYNTAX = '''\
import time

type Alias[T] = list[T]


def helper[T](x: T) -> T:
    time.sleep(1)
    return x


class Box[T]:
    def get(self) -> None:
        time.sleep(1)


data = {"a": 1}


async def handler():
    label = f"{data["a"]}"
    helper(1)
    Box().get()
    time.sleep(2)
'''

MATCH_AND_EXCEPT_STAR = '''\
import time


async def handler(command):
    match command:
        case {"action": "wait", "seconds": s}:
            time.sleep(s)
        case _:
            pass
    try:
        pass
    except* ValueError:
        time.sleep(1)
'''


def test_pep695_and_pep701_are_read_on_any_python() -> None:
    found = [(f.line, f.code, [h.function for h in f.via]) for f in analyze([summarize(NEW_SYNTAX, "m")])]
    assert found == [(21, "AM150", ["m.helper"]), (22, "AM150", ["m.Box.get"]), (23, "AM150", [])]


def test_match_and_except_star() -> None:
    assert [f.line for f in analyze([summarize(MATCH_AND_EXCEPT_STAR, "m")])] == [7, 13]


def test_real_syntax_errors_still_raise() -> None:
    with pytest.raises(SyntaxError):
        summarize("def f(:\n", "m")
