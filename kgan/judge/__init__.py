"""The reference classifier that judges generated images, and the per-epoch score built on it.

`kgan evaluate` scores in its feature space (kgan.judge.classifier); `kgan train --metric NAME`
scores every epoch's generator there (kgan.judge.epoch_score), with the metrics of
kgan.metrics.registry.
"""
