"""Which settings two configs differ in (a resumed run against its saved config, say).

Paths (``data.root``, ``train.init_from``, a ``model.weights`` file, the folders of
``data.still_sources``) are compared resolved, so ``data/synthetic`` and its absolute path are
the same setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gcseg.config.merging import to_plain
from gcseg.config.tree import GCSegConfig

__all__ = ["PATH_SETTINGS", "config_differences"]

PATH_SETTINGS = ("data.root", "train.init_from", "model.weights")
"""Settings holding a file or folder path (``model.weights`` also takes the names
``imagenet`` and ``foundation``); ``data.still_sources`` holds ``kind:path`` entries."""

WEIGHT_NAMES = ("imagenet", "foundation")
"""Values of ``model.weights`` that name weights rather than a file."""


def config_differences(before: GCSegConfig | dict[str, Any], after: GCSegConfig | dict[str, Any]
                       ) -> dict[str, tuple[Any, Any]]:
    """``{"section.key": (value in before, value in after)}`` for every setting that differs;
    paths are compared resolved (relative against the working folder), so a dataset named by a
    relative path and by its absolute path is the same setting."""
    flat = [_flat(c.to_dict() if isinstance(c, GCSegConfig) else c) for c in (before, after)]
    keys = list(flat[0]) + [key for key in flat[1] if key not in flat[0]]
    return {key: (flat[0].get(key), flat[1].get(key)) for key in keys
            if _normalised(key, flat[0].get(key)) != _normalised(key, flat[1].get(key))}


def _resolved(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _normalised(key: str, value: Any) -> Any:
    """``value`` of setting ``key`` with any path in it made absolute (symlinks resolved)."""
    if key in PATH_SETTINGS and isinstance(value, str) and value not in WEIGHT_NAMES:
        return _resolved(value)
    if key == "data.still_sources" and isinstance(value, (list, tuple)):
        specs = []
        for spec in value:
            kind, sep, path = str(spec).partition(":")
            specs.append(f"{kind}:{_resolved(path)}" if sep and path else spec)
        return specs
    return value


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"section.key": value}`` of a nested dict (values in their YAML form)."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = to_plain(value)
    return flat
