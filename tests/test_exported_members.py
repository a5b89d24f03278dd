"""The public namespace is curated: everything in __all__ exists, is sorted and says where it lives."""

from __future__ import annotations

import paren_async
import paren_async.testing
import paren_async.watch


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and every name in it resolves."""
    assert paren_async.__all__ == sorted(paren_async.__all__)
    for name in paren_async.__all__:
        assert hasattr(paren_async, name), name


def test_public_names_come_from_public_or_private_modules_of_the_package() -> None:
    """Every exported class or function is defined inside paren_async."""
    for name in paren_async.__all__:
        member = getattr(paren_async, name)
        module = getattr(member, "__module__", "paren_async")
        assert module.startswith("paren_async"), (name, module)


def test_nothing_private_leaks_into_the_namespace() -> None:
    """Names not in __all__ are modules or dunder names, never stray helpers."""
    extra = {
        name
        for name in dir(paren_async)
        # "@py_..." names are pytest's assertion rewriting, present only under pytest.
        if not name.startswith(("_", "@")) and name not in paren_async.__all__
    }
    assert extra <= {"dlt", "models", "testing", "watch"}, extra  # optional submodules


def test_testing_namespace_is_sorted() -> None:
    """paren_async.testing curates its exports the same way."""
    assert paren_async.testing.__all__ == sorted(paren_async.testing.__all__)
    for name in paren_async.testing.__all__:
        assert hasattr(paren_async.testing, name), name


def test_watch_namespace_is_sorted_and_complete() -> None:
    """paren_async.watch curates its exports the same way, all defined inside paren_async."""
    assert paren_async.watch.__all__ == sorted(paren_async.watch.__all__)
    for name in paren_async.watch.__all__:
        member = getattr(paren_async.watch, name)
        if isinstance(member, type) or (callable(member) and not hasattr(member, "__origin__")):
            assert member.__module__.startswith("paren_async"), name
