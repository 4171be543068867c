"""The one place neurosim imports Intel Lava (``lava-nc``) from.

lava-nc 0.10.0 declares ``Requires-Python <3.11`` but runs on 3.11 except for one module:
``lava/magma/compiler/var_model.py`` declares dataclass fields whose default is an
instance of another (unhashable, ``eq=True``) dataclass, which Python 3.11's
:mod:`dataclasses` rejects ("mutable default ... use default_factory"); Python 3.10 only
rejected ``list``, ``dict`` and ``set`` defaults. :func:`import_lava` imports that module
first, under a temporary patch of the check that restores the 3.10 behaviour, then undoes
the patch; the rest of lava then imports normally (the compiler imports ``var_model``
lazily, so patching around any other lava import is not enough). It also imports lava's
multiprocessing layer so that its import-time ``set_start_method('fork')`` cannot fail when
the program already chose a start method.

Every lava import in neurosim goes through :func:`import_lava` (or :func:`lava_module`),
before any other lava module is imported. Importing this module itself imports nothing
from lava, so ``neurosim --help`` stays fast and a machine without lava still works.

Install hint (also returned by :func:`available`)::

    pip install --ignore-requires-python lava-nc==0.10.0 'networkx<=2.8.7' 'asteval<0.10'
"""
from __future__ import annotations

import dataclasses
import importlib
import sys
import threading
from types import ModuleType

INSTALL_HINT = ("install it with: pip install --ignore-requires-python lava-nc==0.10.0 "
                "'networkx<=2.8.7' 'asteval<0.10' (numpy<2)")

_LOCK = threading.Lock()
_IMPORTED = False


class _HashablePlaceholder:
    """Stands in for an unhashable dataclass default while 3.11's check looks at it."""


def _patched_get_field(original):
    """Wrap ``dataclasses._get_field`` to accept dataclass-instance defaults (3.10 rule)."""

    def _get_field(cls, a_name, a_type, *args, **kwargs):
        default = cls.__dict__.get(a_name, dataclasses.MISSING)
        if (default is dataclasses.MISSING or isinstance(default, (dataclasses.Field, list, dict, set))
                or type(default).__hash__ is not None):
            return original(cls, a_name, a_type, *args, **kwargs)
        setattr(cls, a_name, _HashablePlaceholder())
        try:
            f = original(cls, a_name, a_type, *args, **kwargs)
        finally:
            setattr(cls, a_name, default)
        f.default = default
        return f

    return _get_field


def _import_var_model() -> None:
    if "lava.magma.compiler.var_model" in sys.modules:
        return
    original = dataclasses._get_field
    needs_patch = sys.version_info >= (3, 11)
    if needs_patch:
        dataclasses._get_field = _patched_get_field(original)
    try:
        importlib.import_module("lava.magma.compiler.var_model")
    finally:
        dataclasses._get_field = original


def _import_message_infrastructure() -> None:
    """Import lava's multiprocessing layer, which calls ``set_start_method('fork')`` at import.

    That call raises "context has already been set" when the program chose a start method
    before (even 'fork'). Lava's runtime needs forked workers, so the start method is set to
    'fork' (forced, if another was chosen) for the duration of the import.
    """
    import multiprocessing as mp

    name = "lava.magma.runtime.message_infrastructure.multiprocessing"
    if name in sys.modules or mp.get_start_method(allow_none=True) is None:
        importlib.import_module(name)
        return
    original = mp.set_start_method
    mp.set_start_method = lambda method, force=False: original(method, force=True)
    try:
        importlib.import_module(name)
    finally:
        mp.set_start_method = original


def import_lava() -> None:
    """Make lava importable (idempotent); raise ``ImportError`` with the install hint if absent."""
    global _IMPORTED
    with _LOCK:
        if _IMPORTED:
            return
        try:
            importlib.import_module("lava")
        except ImportError:
            raise ImportError(f"lava-nc is not installed; {INSTALL_HINT}") from None
        try:
            _import_var_model()
            _import_message_infrastructure()
        except Exception as exc:  # any failure here means this lava cannot run on this Python
            raise ImportError(f"lava-nc is installed but does not import "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                              f"{INSTALL_HINT}") from None
        _IMPORTED = True


def lava_module(name: str) -> ModuleType:
    """Import and return ``name`` (a ``lava.*`` module) after :func:`import_lava`."""
    if not name.startswith("lava"):
        raise ValueError(f"not a lava module: {name!r}")
    import_lava()
    return importlib.import_module(name)


def available() -> str | None:
    """None when lava imports and runs its compiler here, else a one-line reason and install hint."""
    try:
        import_lava()
        lava_module("lava.magma.core.run_configs")
    except ImportError as exc:
        return str(exc)
    except Exception as exc:  # pragma: no cover - broken installs
        return f"lava-nc does not import ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
    return None


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as _version

    try:
        return _version("lava-nc")
    except PackageNotFoundError:
        return "unknown"
