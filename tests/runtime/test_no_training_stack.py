import subprocess
import sys
import textwrap

from tests.conftest import ROOT

TRAINING_STACK = ("keras", "tensorflow", "jax", "jaxlib", "onnx", "scipy", "sklearn")


def test_runtime_and_generate_never_import_the_training_stack(conditional_model, tmp_path):
    # A None entry in sys.modules makes any import of that package raise ImportError.
    script = textwrap.dedent(f"""
        import sys
        for name in {TRAINING_STACK!r}:
            sys.modules[name] = None

        import kgan.runtime
        from cli.main import cli

        try:
            cli(["generate", {str(conditional_model)!r}, "-n", "5", "--out", {str(tmp_path / "out")!r},
                 "--format", "npz"])
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in {TRAINING_STACK!r}
                        and sys.modules[name] is not None)
        assert not loaded, loaded
        """)

    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "samples.npz").is_file()
