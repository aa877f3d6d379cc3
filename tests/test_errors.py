from __future__ import annotations

import ast
import inspect

import ethos.errors as errors


def test_when_reading_the_docstring_tree_then_every_error_class_is_drawn() -> None:
    doc = errors.__doc__ or ""
    classes = [name for name, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, Exception)]
    assert classes
    for name in classes:
        assert name in doc, f"{name} is missing from the tree in ethos.errors' docstring"


def test_when_exit_codes_are_read_then_gate_failure_is_1_and_input_errors_are_2() -> None:
    assert errors.GateFailed("x").exit_code == 1
    assert errors.ConfigError("x").exit_code == 2
    assert errors.ServerResponseError("x", status=503).status == 503


def test_when_missing_dependency_then_message_has_the_pip_command() -> None:
    exc = errors.MissingDependencyError("transformers", "hf", "the hf: provider")
    assert "pip install 'ethos[hf]'" in str(exc)


def test_when_parsing_errors_module_then_it_imports_nothing_from_ethos() -> None:
    tree = ast.parse(inspect.getsource(errors))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("ethos")


def test_when_a_kind_ends_in_y_then_the_known_list_is_spelt_as_a_plural() -> None:
    from ethos.errors import UnknownNameError

    assert "Known entities: EMAIL." in str(UnknownNameError("entity", "EMAL", ["EMAIL"], ["EMAIL"]))
    assert "Known providers: hf." in str(UnknownNameError("provider", "hg", ["hf"], []))
