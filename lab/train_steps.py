"""One custom train step, written once with keras.ops, run by TensorFlow and by JAX (runs.TrackedSteps).

TensorFlow runs a step as written: `descend` takes a gradient tape and moves
the variables in place. JAX's fit compiles a pure function of the model's
state instead, so there the step runs in a StatelessScope that maps every
variable to its value in that state: reads see the state, assignments are
recorded, and the recorded values are the state the step hands back. `descend`
differentiates with jax.grad through a scope of its own and records its
results in the step's scope. The GAN's two optimizers and its BatchNorm
bookkeeping thus need no second version of its step.
"""

import keras

from lab import backends


def descend(model, optimizer, variables: list, compute_losses, key: str) -> dict:
    """One step of `optimizer` on `variables` against compute_losses()[key]; returns that pass's losses. What the
    pass moves (BatchNorm statistics, the noise's seed) stays moved, as on TensorFlow."""
    if backends.NAME == "jax":
        return _descend_statelessly(model, optimizer, variables, compute_losses, key)
    return _descend_with_tape(optimizer, variables, compute_losses, key)


def _descend_with_tape(optimizer, variables, compute_losses, key):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        losses = compute_losses()
    optimizer.apply_gradients(zip(tape.gradient(losses[key], variables), variables))
    return losses


def _descend_statelessly(model, optimizer, variables, compute_losses, key):
    import jax

    moved = model.non_trainable_variables
    state = [(variable, variable.value) for variable in model.trainable_variables + moved]

    def loss_and_more(values):
        with keras.StatelessScope(state_mapping=state + list(zip(variables, values))) as scope:
            losses = compute_losses()
        return losses[key], (losses, [scope.get_current_value(variable) for variable in moved])

    values = [variable.value for variable in variables]
    (_, (losses, moved_values)), gradients = jax.value_and_grad(loss_and_more, has_aux=True)(values)
    new_values, new_slots = optimizer.stateless_apply([v.value for v in optimizer.variables], gradients, values)
    for variable, value in zip(variables + optimizer.variables + moved, new_values + new_slots + moved_values):
        variable.assign(value)
    return losses


def run_statelessly(step, groups: tuple, values: tuple, data):
    """step(data) with the variables of `groups` (lists) at `values`: its logs, and the groups' values after it
    (JAX's train_step and test_step)."""
    mapping = [pair for group, group_values in zip(groups, values) for pair in zip(group, group_values)]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    return logs, tuple([scope.get_current_value(variable) for variable in group] for group in groups)
