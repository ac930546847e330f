"""The package root: every error type a caller may need to catch is importable from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from fastapi import HTTPException

import dadong_qa


def test_every_error_type_is_exported_from_the_package_root():
    defined = set()
    for info in pkgutil.walk_packages(dadong_qa.__path__, "dadong_qa."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            mine = inspect.isclass(obj) and obj.__module__ == info.name and not name.startswith("_")
            # An HTTPException (auth.LoginRefused) is the server's answer to a browser, not an
            # error raised to the package's callers.
            if mine and issubclass(obj, Exception) and not issubclass(obj, HTTPException):
                defined.add(name)
    assert defined, "no error types found: the walk is broken"
    assert defined <= set(dadong_qa.__all__), sorted(defined - set(dadong_qa.__all__))
    for name in defined:
        assert issubclass(getattr(dadong_qa, name), Exception)
