"""GAN losses on D's logits: non-saturating (binary cross-entropy written with softplus) and hinge."""

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


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of D (Lim & Ye, 2017; Miyato et al., 2018): mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))).

    Args:
        real_logits: D's logits on real images.
        fake_logits: D's logits on generated images.
    """
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """The generator's loss against a hinge D: -mean(D(G(z)))."""
    return -ops.mean(fake_logits)
