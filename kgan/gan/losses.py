"""Non-saturating GAN losses on logits (binary cross-entropy written with softplus)."""

from keras import ops


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """BCE of D on real (target 1 - label_smoothing, one-sided) and fake (target 0) logits.

    Args:
        real_logits: D's logits on real images.
        fake_logits: D's logits on generated images.
        label_smoothing: how far below 1 the real target sits (0 = none, 0.1 is common).
    """
    real_target = 1.0 - label_smoothing
    real_loss = real_target * ops.softplus(-real_logits) + (1.0 - real_target) * ops.softplus(real_logits)
    return ops.mean(real_loss) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits):
    """Non-saturating generator loss: BCE of D's logits on fakes against target 1."""
    return ops.mean(ops.softplus(-fake_logits))
