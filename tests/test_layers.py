"""The package's layers: every import in kgan/ points down, never up or sideways, and no module cycle.

Read statically from the source (imports inside functions included), so it needs no
backend and runs in every tox env.
"""

import ast
from pathlib import Path

import pytest

KGAN = Path(__file__).resolve().parents[1] / "kgan"

# Bottom to top. A unit (a subpackage, or a top-level module) may import only units of lower layers.
LAYERS = (
    ("kgan", "kgan.errors"),
    ("kgan.fileio", "kgan.cache", "kgan.config", "kgan.latents"),
    ("kgan.imaging", "kgan.formats", "kgan.plots"),
    ("kgan.data", "kgan.metrics", "kgan.runtime", "kgan.devices"),
    ("kgan.networks", "kgan.adapters", "kgan.judge"),
    ("kgan.gan",),
    ("kgan.training", "kgan.export"),
    ("kgan.evaluation",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
KERAS_FREE = ("kgan.errors", "kgan.fileio", "kgan.cache", "kgan.config", "kgan.latents", "kgan.imaging", "kgan.formats",
              "kgan.metrics", "kgan.runtime")  # fmt: skip
TRAINING_STACK = ("keras", "tensorflow", "jax", "jaxlib", "tf2onnx", "jax2onnx")


def module_name(path):
    parts = path.relative_to(KGAN.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(KGAN.rglob("*.py"))}


def unit(module):
    return ".".join(module.split(".")[:2])


def imports(module):
    """(imported name, line) of every import statement in `module`; `from a import b` gives a.b if that is a module."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{module}:{node.lineno} uses a relative import"
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.append((submodule if submodule in MODULES else node.module, node.lineno))
    return found


def kgan_edges():
    return {
        module: sorted({name for name, _ in imports(module) if name in MODULES and name != module})
        for module in MODULES
    }


def test_every_unit_has_a_layer():
    assert {unit(module) for module in MODULES} == set(RANK)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    upward = [
        f"line {line}: {name} ({unit(name)} is not below {unit(module)})"
        for name, line in imports(module)
        if name.startswith("kgan.") and unit(name) != unit(module) and RANK[unit(name)] >= RANK[unit(module)]
    ]
    assert not upward, f"{module} imports upward or sideways: {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if unit(m) in KERAS_FREE))
def test_lower_layers_never_import_a_training_stack(module):
    heavy = [f"line {line}: {name}" for name, line in imports(module) if name.split(".")[0] in TRAINING_STACK]
    assert not heavy, f"{module} imports {heavy}"


def test_no_import_cycle_between_modules():
    edges = kgan_edges()
    state = {}

    def visit(module, path):
        state[module] = "open"
        for target in edges[module]:
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in edges:
        if module not in state:
            visit(module, [module])


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The rules above can fail: a metrics module that imported the GAN would be reported."""
    fake = tmp_path / "upward.py"
    fake.write_text("def f():\n    from kgan.gan import DCGAN\n")
    monkeypatch.setitem(MODULES, "kgan.metrics.upward", fake)
    with pytest.raises(AssertionError, match=r"kgan\.metrics\.upward imports upward .*kgan\.gan"):
        test_imports_point_down("kgan.metrics.upward")
