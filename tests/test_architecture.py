"""The layout rules of ARCHITECTURE.md: imports run downwards, files stay small."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from gcseg.inference import VideoSegmenter

PACKAGE = Path(__file__).resolve().parent.parent / "gcseg"

LAYERS = {
    "runtime": 0, "files": 0, "metrics": 0,
    "config": 1, "data": 1,
    "model": 2, "evaluation": 2, "baselines": 2,
    "checkpoint": 3, "inference": 3,
    "scoring": 4, "speed": 4,
    "train": 5, "model_card": 5,
    "foundation": 6, "ablation": 6,
    "viz": 7,
    "short_run": 8, "widgets": 8,
    "demo": 9,
    "notebook": 10, "cli": 10,
}
"""Each room of the package (a top-level module or package) and its layer, as ARCHITECTURE.md
lists them."""

MAX_LINES = 500


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "gcseg" and len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    """The gcseg modules ``path`` imports (absolute imports, anywhere in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] == "gcseg"}


def _library_files() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_room_has_a_layer():
    rooms = {path.relative_to(PACKAGE).parts[0].removesuffix(".py")
             for path in _library_files()} - {"__init__", "__main__"}
    assert rooms == set(LAYERS)


def test_imports_run_downwards_only():
    upward = []
    for path in _library_files():
        room = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if room not in LAYERS:
            continue
        for module in _imports(path):
            target = _room(module)
            if target is None or target == room:
                continue
            if LAYERS[target] >= LAYERS[room]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {module} "
                              f"(layer {LAYERS[target]} from layer {LAYERS[room]})")
    assert not upward, "\n".join(upward)


def test_the_layer_table_of_architecture_md_matches():
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = {name: int(layer) for layer, name in
             re.findall(r"^\| (\d+) \| `(\w+)/?` \|", text, flags=re.MULTILINE)}
    assert table == LAYERS


def test_no_library_file_is_over_500_lines():
    long = {str(path.relative_to(PACKAGE.parent)): count for path in _library_files()
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_the_video_segmenter_takes_an_options_value():
    parameters = list(inspect.signature(VideoSegmenter.__init__).parameters)[1:]
    assert parameters == ["model", "options", "device", "trained_frame_size"]
