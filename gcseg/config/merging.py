"""Settings from YAML onto the dataclass tree: every key known, every value of its field's type.

:func:`merge_settings` applies a (partial) nested dict of settings to a config dataclass and
returns the new one; each value is checked against its field's annotation by :func:`coerce`
(YAML lists become tuples, a literal's value must be one of its choices).  Errors are
:class:`ConfigError` naming the source (a file, a recipe) and the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

__all__ = ["ConfigError", "coerce", "merge_settings", "to_plain"]


class ConfigError(ValueError):
    """A configuration value or file is wrong; the message names the key and the source."""


def to_plain(value: Any) -> Any:
    """``value`` with every tuple made a list, in nested dicts and lists (the YAML form)."""
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


def merge_settings(base: Any, data: dict[str, Any], source: str, prefix: str = "") -> Any:
    """A copy of dataclass ``base`` with the entries of ``data`` applied, each checked against
    its field's type; nested dicts go into nested dataclasses.  ``prefix`` is the key path of
    ``base`` in the tree (``"model."``), for the messages."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'top level'}: expected a mapping")
    hints = typing.get_type_hints(type(base))
    names = [f.name for f in dataclasses.fields(base)]
    updates = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(
                f"{source}: unknown key {prefix + str(key)!r} (allowed here: {', '.join(names)})"
            )
        current = getattr(base, key)
        if dataclasses.is_dataclass(current):
            updates[key] = merge_settings(current, value, source, prefix=f"{prefix}{key}.")
        else:
            updates[key] = coerce(value, hints[key], f"{source}: {prefix}{key}")
    return dataclasses.replace(base, **updates)


def coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` checked against the annotation ``tp`` (lists become tuples); ``where`` (the
    source and key) starts the message of the :class:`ConfigError` raised otherwise."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, typing.get_args(tp), where)
    if origin is typing.Literal:
        return _coerce_choice(value, typing.get_args(tp), where)
    if origin is tuple:
        return _coerce_tuple(value, typing.get_args(tp), where)
    if tp in _SCALARS:
        return _SCALARS[tp](value, where)
    raise ConfigError(f"{where}: unsupported type {tp}")  # pragma: no cover


def _coerce_union(value: Any, options: tuple[Any, ...], where: str) -> Any:
    """The first of ``options`` that accepts ``value`` (``None`` for an optional setting)."""
    if value is None and type(None) in options:
        return None
    errors = []
    for option in (arg for arg in options if arg is not type(None)):
        try:
            return coerce(value, option, where)
        except ConfigError as error:
            errors.append(str(error))
    raise ConfigError(errors[0] if errors else f"{where}: got {value!r}")


def _coerce_choice(value: Any, choices: tuple[Any, ...], where: str) -> Any:
    """One of a literal's ``choices``, of the same type (``true`` is not the choice ``1``)."""
    if any(type(value) is type(choice) and value == choice for choice in choices):
        return value
    raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}")


def _coerce_tuple(value: Any, items: tuple[Any, ...], where: str) -> tuple[Any, ...]:
    """A list as a tuple: ``tuple[T, ...]`` (any length) or ``tuple[T1, T2]`` (that length)."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: expected a list, got {value!r}")
    if len(items) == 2 and items[1] is Ellipsis:
        return tuple(coerce(item, items[0], where) for item in value)
    if len(value) != len(items):
        raise ConfigError(f"{where}: expected {len(items)} items, got {len(value)}")
    return tuple(coerce(item, tp, where) for item, tp in zip(value, items, strict=True))


def _coerce_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{where}: expected true/false, got {value!r}")


def _coerce_int(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ConfigError(f"{where}: expected an integer, got {value!r}")


def _coerce_float(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):  # YAML 1.1 reads "1e-5" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expected a number, got {value!r}")


def _coerce_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    raise ConfigError(f"{where}: expected a string, got {value!r}")


_SCALARS = {bool: _coerce_bool, int: _coerce_int, float: _coerce_float, str: _coerce_str}
