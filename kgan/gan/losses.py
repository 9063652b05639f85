"""GAN losses on D's logits, non-saturating (binary cross-entropy written with softplus) and hinge, and the
generator's mode-seeking term."""

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


def mode_seeking_loss(images, latents, labels=None, epsilon=1e-5):
    """MSGAN's mode-seeking term (Mao et al., 2019), which the generator minimises to keep the images of
    different z apart: 1 / (d(G(z_i), G(z_j)) / d(z_i, z_j) + epsilon).

    d is the mean absolute difference, each pooled (summed) over the batch's pairs (i, j): every sample and the
    next one in the batch of its label (every sample and the next one, without labels). 0 when no two samples
    share a label.

    Args:
        images: the generator's outputs, (batch, height, width, channels).
        latents: their z, (batch, latent_dim).
        labels: their class indices, (batch,); None for an unconditional generator.
        epsilon: keeps the term finite when the images of a pair coincide.
    """
    images, latents = ops.cast(images, "float32"), ops.cast(latents, "float32")
    if labels is not None:
        labels = ops.cast(labels, "int32")
        positions = ops.cumsum(ops.ones_like(labels)) - 1
        order = ops.argsort(labels * ops.shape(labels)[0] + positions)  # by label, then by place in the batch
        images, latents, labels = (ops.take(tensor, order, axis=0) for tensor in (images, latents, labels))
        pairs = ops.cast(ops.equal(labels[1:], labels[:-1]), "float32")
    else:
        pairs = ops.ones_like(latents[1:, 0])
    image_gaps = ops.mean(ops.abs(images[1:] - images[:-1]), axis=(1, 2, 3))
    latent_gaps = ops.mean(ops.abs(latents[1:] - latents[:-1]), axis=1)
    ratio = ops.sum(pairs * image_gaps) / ops.maximum(ops.sum(pairs * latent_gaps), epsilon)
    return ops.where(ops.sum(pairs) > 0, 1.0 / (ratio + epsilon), 0.0)
