"""Adam's update as TensorFlow's fused kernel: one ResourceApplyAdam per variable."""

import tensorflow as tf


def is_dense(gradient):
    """Whether `gradient` is a dense tensor, not an embedding's tf.IndexedSlices.

    Keras's update of IndexedSlices works on each repeated row apart (an embedding row
    used twice in a batch adds two squares to v, not the square of their sum), which the
    dense kernel would not reproduce; kgan's recipes were measured with Keras's update, so
    sparse gradients keep it.
    """
    return not isinstance(gradient, tf.IndexedSlices)


def fused_adam_update(optimizer, gradient, variable, learning_rate):
    """keras.optimizers.Adam.update_step's arithmetic in one kernel, for `optimizer` (an Adam without amsgrad).

    Keras's update runs about fifteen element-wise ops per variable, each a pass over the
    weights; ResourceApplyAdam makes one (same formula: epsilon added to sqrt(v), the bias
    corrections folded into the rate). Dense gradients only: see `is_dense`.

    Args:
        optimizer: the keras.optimizers.Adam being applied.
        gradient: the variable's gradient, a dense tensor.
        variable: a tf.Variable, or one replica's component of a distributed one.
        learning_rate: the step's rate.
    """
    dtype = variable.dtype
    index = optimizer._get_variable_index(variable)
    step = tf.cast(optimizer.iterations + 1, dtype)
    beta_1, beta_2 = tf.cast(optimizer.beta_1, dtype), tf.cast(optimizer.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle,
        m=optimizer._momentums[index].value.handle,
        v=optimizer._velocities[index].value.handle,
        beta1_power=tf.pow(beta_1, step),
        beta2_power=tf.pow(beta_2, step),
        lr=tf.cast(learning_rate, dtype),
        beta1=beta_1,
        beta2=beta_2,
        epsilon=tf.cast(optimizer.epsilon, dtype),
        grad=tf.cast(gradient, dtype),
        use_locking=False,
    )
