"""Every step's argument parser refuses an abbreviated option: `-P m=random_forest` would
otherwise arrive as ``--m`` and silently set ``--model`` (and the logged params misdescribe the
run); with abbreviations off it is an unknown parameter instead."""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from collections.abc import Callable

import pytest

from grocery.config import PROJECT_DIR
from grocery.parameters import parse_pipeline_arguments

STEP_FILES = sorted(path for path in (PROJECT_DIR / "steps").glob("*.py")
                    if path.name != "__init__.py")
SOURCE_FILES = [*STEP_FILES, *sorted((PROJECT_DIR / "grocery").glob("*.py"))]


class Captured(Exception):
    """Raised in place of parsing, once the parser is built."""


def parser_of(build: Callable[[], object], monkeypatch) -> argparse.ArgumentParser:
    """The parser ``build`` makes, caught where it would parse the command line."""
    seen: list[argparse.ArgumentParser] = []

    def capture(self, args=None, namespace=None):
        seen.append(self)
        raise Captured

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_known_args", capture)
        patch.setattr(sys, "argv", ["step"])
        with pytest.raises(Captured):
            build()
    return seen[0]


def builders() -> list[tuple[str, Callable[[], object]]]:
    """Each step's ``parse_args`` and the parser `main` and `pipeline` share."""
    modules = [importlib.import_module(f"steps.{path.stem}") for path in STEP_FILES]
    found = [(module.__name__, module.parse_args) for module in modules
             if hasattr(module, "parse_args")]
    return [*found, ("main and pipeline", lambda: parse_pipeline_arguments("", "max_parallel"))]


BUILDERS = builders()


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=[name for name, _ in BUILDERS])
def test_an_abbreviated_option_is_not_taken_for_the_option(name, build, monkeypatch):
    parser = parser_of(build, monkeypatch)
    required = [word for action in parser._actions if action.required
                for word in (action.option_strings[-1], "1")]
    expected, _ = parser.parse_known_args(required)
    options = [(option, action.dest) for action in parser._actions
               for option in action.option_strings if option.startswith("--")
               and option != "--help"]
    assert options, name
    for option, dest in options:
        abbreviation = option[:-1]
        parsed, rest = parser.parse_known_args([*required, abbreviation, "2"])
        assert rest == [abbreviation, "2"], f"{name}: {abbreviation} was taken for {option}"
        assert getattr(parsed, dest) == getattr(expected, dest)


def test_every_parser_is_built_with_abbreviations_off():
    for path in SOURCE_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "ArgumentParser"):
                flags = {k.arg: k.value for k in node.keywords}
                assert isinstance(flags.get("allow_abbrev"), ast.Constant), path
                assert flags["allow_abbrev"].value is False, path


def test_every_step_parses_its_arguments_with_one_of_these_parsers():
    for path in STEP_FILES:
        text = path.read_text()
        assert "def parse_args(" in text or "parse_pipeline_arguments(" in text, path
