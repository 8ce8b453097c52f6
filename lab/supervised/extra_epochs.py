"""--extra_epochs: a stopping rule on the training set, for a run that must end at rest.

When the scheduled epochs end, the trainer scores the training set; while its
main figure is short of --fit_target it trains one more epoch, at most
--extra_epochs times. An added epoch replays the last epoch's learning rates,
so a cosine schedule climbs back to its last epoch's rate and comes to rest
again. Validation figures play no part in the choice (docs/seed_study.md, Rendering).
"""

import keras


@keras.saving.register_keras_serializable(package="lab")
class ReplayingCosineDecay(keras.optimizers.schedules.CosineDecay):
    """Keras' CosineDecay (with its warm-up or hold), whose steps past the end replay its last epoch.

    Before the end it is CosineDecay step for step, so a run with no extra epoch is unchanged.
    """

    def __init__(self, steps_per_epoch: int, **cosine_args):
        super().__init__(**cosine_args)
        self.steps_per_epoch = steps_per_epoch

    def __call__(self, step):
        end = self.warmup_steps + self.decay_steps
        step = keras.ops.cast(step, "float32")  # exact for whole steps below 2**24
        replayed = end - self.steps_per_epoch + keras.ops.mod(step - end, self.steps_per_epoch)
        return super().__call__(keras.ops.where(step < end, step, replayed))

    def get_config(self):
        return {**super().get_config(), "steps_per_epoch": self.steps_per_epoch}


def short_of_target(metrics: dict, task, target: float) -> tuple:
    """(figure, short): the task's main figure on the training set, and whether it misses --fit_target."""
    figure = float(metrics[task.metric_key(metrics)])
    return figure, figure < target if task.best_mode == "max" else figure > target


def used(history: list, args) -> int:
    """Extra epochs a run has trained so far (its history past -E)."""
    return max(len(history) - args.epochs, 0)
