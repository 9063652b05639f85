"""A training run: config to model (`builder`), the fit loop with backup, restore and resume (`run`),
the per-epoch recorder and divergence guard (`callbacks`), and whole-state checkpoints (`checkpoint`)."""
