"""File formats and contracts, spelled once and imported by every side (no keras).

- `kgan.formats.run_folder`: the run folder that `kgan train` writes.
- `kgan.formats.onnx_contract`: the names and metadata of an exported ONNX generator.
"""
