"""The user's own networks: any ``nn.Module`` named by a reference such as ``model.py:Net``.

A reference is ``TARGET:NAME``. TARGET is a Python file (``path/to/model.py``, imported by path,
so it needs no package around it) or an importable module (``mypackage.nets``); NAME is a class or
a factory function in it, called with the keyword arguments of ``--kwargs '{"num_classes": 10}'``
(JSON). The model is stamped with ``model_ref`` (the file made absolute) and ``model_kwargs``, which
a checkpoint stores, so a run trained on it can be rebuilt by ``eval``, ``viz`` and ``report``.

Importing a file runs its code, exactly as ``python model.py`` would: name only files you trust.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from convlens.errors import ConfigError


def is_reference(text: str) -> bool:
    """True for ``TARGET:NAME`` (spec text, zoo names and run directories have no colon there)."""
    target, sep, name = text.rpartition(":")
    return bool(sep and target and name.isidentifier())


def parse_kwargs(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``--kwargs`` text (a JSON object) as a dict; a dict passes through."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    try:
        value = json.loads(text)
    except ValueError as err:
        raise ConfigError(
            f"--kwargs must be a JSON object such as '{{\"num_classes\": 10}}', not {text!r} ({err})."
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(
            f"--kwargs must be a JSON object such as '{{\"num_classes\": 10}}', not {text!r}."
        )
    return value


def canonical(ref: str) -> str:
    """The reference with its file made absolute, so that it works from any directory."""
    target, _, name = ref.rpartition(":")
    if _is_file(target):
        return f"{Path(target).expanduser().resolve()}:{name}"
    return ref


def load_user_model(ref: str, kwargs: str | Mapping[str, Any] | None = None) -> Any:
    """Import TARGET, call NAME(**kwargs) and return the ``nn.Module`` it gives."""
    from torch import nn

    if not is_reference(ref):
        raise ConfigError(f"{ref!r} is not a model reference; write FILE.py:NAME or module:NAME.")
    options = parse_kwargs(kwargs)
    target, _, name = ref.rpartition(":")
    module = _import(target)
    if not hasattr(module, name):
        found = [k for k, v in vars(module).items() if _is_model_maker(v, module)]
        hint = f"; it defines {', '.join(found)}" if found else ""
        raise ConfigError(f"{target!r} has no {name!r}{hint}.")
    maker = getattr(module, name)
    if not callable(maker):
        raise ConfigError(f"{target}:{name} is a {type(maker).__name__}, not a class or function.")
    try:
        model = maker(**options)
    except Exception as err:  # the user's constructor: any failure is theirs to read
        raise ConfigError(
            f"{name}(**{json.dumps(options)}) from {target!r} failed: {type(err).__name__}: {err}."
        ) from None
    if not isinstance(model, nn.Module):
        raise ConfigError(f"{target}:{name} gave a {type(model).__name__}, not a torch.nn.Module.")
    # what a checkpoint stores to build the same model again (convlens.train.checkpoint)
    model.__dict__.update(model_ref=canonical(ref), model_kwargs=options)
    return model


def _is_file(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _is_model_maker(value: Any, module: ModuleType) -> bool:
    # classes and functions defined in the file itself (not those it imports)
    if getattr(value, "__module__", None) != module.__name__:
        return False
    return callable(value)


def _import(target: str) -> ModuleType:
    if not _is_file(target):
        try:
            return importlib.import_module(target)
        except ImportError as err:
            raise ConfigError(f"cannot import module {target!r}: {err}.") from None
        except Exception as err:
            raise ConfigError(
                f"module {target!r} failed to import: {type(err).__name__}: {err}."
            ) from None
    path = Path(target).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"model file {target!r} does not exist.")
    # one module name per file, so two files both called model.py do not replace each other
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"convlens_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"model file {target!r} cannot be imported as Python.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up here
    sys.path.insert(0, str(path.parent))  # the file's own helpers import as they would there
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[module_name]
        raise ConfigError(
            f"model file {target!r} has a syntax error at line {err.lineno}: {err.msg}."
        ) from None
    except Exception as err:
        del sys.modules[module_name]
        raise ConfigError(
            f"model file {target!r} failed to import: {type(err).__name__}: {err}."
        ) from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def rebuild_user_model(meta: Mapping[str, Any]) -> Any:
    """The model of a checkpoint trained on a user's module: the same call, and the head sized
    to the classes the run was trained on (``finetune.model_for_data`` replaced it)."""
    from convlens.models.head import num_outputs, replace_head

    model = load_user_model(str(meta.get("model")), meta.get("model_kwargs") or {})
    if num_outputs(model) not in (None, meta.get("num_classes") or num_outputs(model)):
        replace_head(model, int(meta["num_classes"]))
    if meta.get("in_shape"):
        model.in_shape = tuple(meta["in_shape"])
    return model
