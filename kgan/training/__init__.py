"""Training: losses, augmentation, per-backend trainers, callbacks, checkpoints, the run loop."""
