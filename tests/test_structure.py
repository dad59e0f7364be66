"""The package's layering: no import cycles, and an answer loads only what it uses."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import bot

PACKAGE = Path(bot.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Map each `bot` module to the `bot` modules it imports, at the top or inside functions."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[module] = {m for m in found if m in names and m != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """Return one import cycle as a path of modules, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return []


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _imports()
    assert "bot.compose" in graph and "bot.evidence" in graph["bot.compose"]
    assert _cycle(graph) == []


def test_an_answer_from_the_command_line_loads_neither_torch_nor_langchain_nor_chroma(
    seed_dir: Path, tmp_path: Path
) -> None:
    """The embedded answer needs the ONNX encoder and the cache, nothing heavier.

    Chroma is opened only when the cache is behind the generation stamped beside it.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    index = tmp_path / "index"
    ingest = [sys.executable, "-m", "bot", "ingest", str(seed_dir), "--index", str(index)]
    subprocess.run(ingest, env=env, check=True, capture_output=True)
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['newsbot', 'ask', 'Who controls Pokrovsk?', '--index', {str(index)!r}]\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'sentence_transformers', 'langchain_core', 'langsmith', 'spacy', "
        "'chromadb'})\n"
        "print('LOADED', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    )
    assert "Pokrovsk" in out.stdout
    assert "LOADED []" in out.stdout
