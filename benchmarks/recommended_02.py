"""Notebook 02's ``compile_model`` as issue 15 recommends it; training_speed.py times it.

The one change from the committed notebook is ``steps_per_execution=32``: Keras
then runs 32 training steps per call into TensorFlow's graph instead of one, so
the Python work around each step (the ``tf.function`` call, the callbacks'
bookkeeping, the iterator hand-off) is paid once per 32 steps. The steps are the
same: the same batches of 128 in the same order, one optimizer update each, the
same validation split and epochs (``create_model`` and ``train_model`` stay as they
are; the benchmark loads them from notebook 02). Measured on the 2-core CPU:
DEVELOPERS.md, "Measured". Once notebook 02 holds this cell, the benchmark loads it
from there and this file goes.
"""

import keras


def compile_model(model, config):
    """Compile ``model`` in place for the optimizer in ``config``; return the model."""
    name = config["optimizer"]
    if name == "sgd":
        optimizer = keras.optimizers.SGD(
            learning_rate=config["learning_rate"], momentum=config["momentum"]
        )
    elif name == "adam":
        optimizer = keras.optimizers.Adam(
            learning_rate=config["learning_rate"],
            beta_1=config["beta_1"],
            beta_2=config["beta_2"],
        )
    elif name == "rmsprop":
        optimizer = keras.optimizers.RMSprop(
            learning_rate=config["learning_rate"], rho=config["rho"], momentum=config["momentum"]
        )
    else:
        raise ValueError(f"Unknown optimizer {name!r}: use 'sgd', 'adam' or 'rmsprop'.")
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        # 32 training steps per call into TensorFlow instead of one: the same steps on
        # the same batches, with the Python overhead of a step paid once per 32.
        steps_per_execution=32,
    )
    return model
