"""A2C as OpenAI baselines' defaults (Mnih et al. 2016, synchronous): the returns, the loss, the optimizer.

The rollout's returns and advantages are a small pure NumPy function
(`returns_and_advantages`), tested on hand-made rollouts; the update is one
`TrackedSteps.step` written with keras.ops, run by TensorFlow or JAX through
the same one-step machinery as the GAN and the VAE (lab/train_steps.py).
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from lab import backends
from lab.runs import TrackedSteps

FIGURES = ("policy_loss", "value_loss", "entropy")


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """How the A2C loss adds its terms, baselines' defaults of 2018."""

    entropy: float = 0.01  # subtracted: pays the policy for staying uncertain
    value: float = 0.5  # the value's error, in the form `value_form` names
    value_form: str = "half_mse"  # one of VALUE_FORMS


VALUE_FORMS = {  # the value's error per row: baselines' a2c/utils.mse until mid-2018 halved it, later forms do not
    "half_mse": lambda error: ops.square(error) / 2.0,
    "mse": ops.square,
}


def returns_and_advantages(rewards, terminals, truncations, bootstrap_values, values, last_values, gamma: float):
    """The n-step returns of one rollout and their advantages over the values the agent acted with.

    Arrays are (steps, envs), step t being the transition from s_t by a_t:
    `terminals` t ends the value's bootstrap (the episode ended or a life was
    lost), `truncations` t cut the episode by its time limit: the return goes on
    from `bootstrap_values` t, the value of the state it was cut in, not from
    the next step (the reset state of a new episode). `values` t is V(s_t);
    `last_values` V(s_steps) bootstraps the rollout's end.
    """
    returns = np.zeros_like(values, dtype=np.float32)
    following = np.asarray(last_values, np.float32)
    for t in reversed(range(len(rewards))):
        following = np.where(truncations[t], bootstrap_values[t], following)
        following = rewards[t] + gamma * np.where(terminals[t], 0.0, following)
        returns[t] = following
    return returns, returns - values


def sample_actions(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row from softmax(logits) (the Gumbel-max draw): int32, as ale-py takes them."""
    gumbel = -np.log(-np.log(rng.uniform(size=logits.shape)))
    return np.argmax(logits + gumbel, axis=1).astype(np.int32)


@keras.saving.register_keras_serializable(package="coordconv_rl")
class BaselinesRMSprop(keras.optimizers.RMSprop):
    """Keras' RMSprop (epsilon inside the square root) with its mean square starting at 1, not 0.

    Baselines' A2C used TensorFlow 1's tf.train.RMSPropOptimizer, whose mean
    square slot starts at ones: the first steps are about lr * gradient, where
    a zero start divides by sqrt(epsilon) and takes steps hundreds of times larger.
    """

    def build(self, variables):
        """RMSprop's slots, the mean square created at ones (an assignment after creation is lost on TensorFlow,
        where Keras builds the optimizer in a scope that discards it)."""
        if self.built:
            return
        keras.optimizers.Optimizer.build(self, variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity", initializer="ones")
        self._momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") if self.centered else []


class A2CAgent(TrackedSteps):
    """The policy-and-value network and its update: one A2C step on a rollout's batch.

    A batch is {"frames": uint8, "actions": int, "returns", "advantages"}, one
    row per (step, env) of the rollout. The loss is baselines': the policy
    gradient on the advantages, plus `weights.value` times the value's error
    against the returns (half the mean squared error by default, as 2018's baselines), minus `weights.entropy` times the
    policy's entropy, plus the network's L2 penalty if any.
    """

    def __init__(self, network, weights: LossWeights = LossWeights(), seed=0, **kwargs):
        super().__init__(FIGURES, seed, **kwargs)
        self.network, self.loss_weights = network, weights
        self.act = backends.compiled_inference(network)  # frames -> {"logits", "value"} as NumPy, for acting

    def call(self, frames, training=False):
        return self.network(frames, training=training)

    def losses_on(self, batch) -> dict:
        outputs = self.network(batch["frames"], training=True)
        log_policy = ops.log_softmax(outputs["logits"], axis=-1)
        chosen = ops.take_along_axis(log_policy, ops.expand_dims(ops.cast(batch["actions"], "int32"), 1), axis=1)
        value_error = VALUE_FORMS[self.loss_weights.value_form](outputs["value"] - batch["returns"])
        losses = {"policy_loss": -ops.mean(batch["advantages"] * ops.squeeze(chosen, 1)),
                  "value_loss": ops.mean(value_error),
                  "entropy": ops.mean(-ops.sum(ops.exp(log_policy) * log_policy, axis=-1))}
        losses["loss"] = (losses["policy_loss"] + self.loss_weights.value * losses["value_loss"]
                          - self.loss_weights.entropy * losses["entropy"] + sum(self.network.losses, 0.0))
        return losses

    def step(self, data):
        batch, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        losses = self.descend(self.optimizer, self.network.trainable_variables, lambda: self.losses_on(batch))
        return self.tracked(losses)
