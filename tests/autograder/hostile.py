# ruff: noqa: E501  (the student code in these strings keeps its own line lengths)
"""Hostile submissions, mistakes and valid alternatives, each with its honest grade.

A scenario is a solution (or release) notebook with some answer cells replaced.
``lost`` is the set of cells its honest grade loses: what the submission earns
if nothing it does beyond its own answers can move a verdict. ``either`` lists
cells whose honest grade depends on a real retrain (a mistake the grader can
reproduce and train, such as a wrong optimizer default); the suite accepts any
outcome there. Every other cell must score exactly as ``lost`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import DATA_DIR

EXPLORATION, TENSORFLOW, PYTORCH = (
    "01-data-exploration.ipynb",
    "02-tensorflow-mlp.ipynb",
    "03-pytorch-mlp.ipynb",
)
COMPARISON, TUNING = "04-framework-comparison.ipynb", "05-hyperparameter-tuning.ipynb"
PYTORCH_CELLS = (
    "check_split_data",
    "check_create_model",
    "check_loss_fn",
    "check_make_optimizer",
    "check_train_epoch",
    "check_evaluate",
    "check_fit",
    "check_pytorch_accuracy",
)
TENSORFLOW_CELLS = (
    "check_create_model",
    "check_compile_model",
    "check_train_model",
    "check_tensorflow_accuracy",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    notebook: str
    replacements: dict[str, str]
    lost: frozenset[str] = frozenset()
    either: frozenset[str] = frozenset()
    prepend: dict[str, str] = field(default_factory=dict)  # code put before a cell's own
    release: bool = False  # start from the release (stubs) instead of the solution
    nbgrader: bool = False  # also graded through nbgrader autograde (a representative subset)


def scenario(name, notebook, replacements, lost=(), either=(), **options) -> Scenario:
    return Scenario(name, notebook, replacements, frozenset(lost), frozenset(either), **options)


EXIT_HOOK = """
import atexit, json, os
def _forge():
    for folder in ("/tmp", os.path.expanduser("~"), os.getcwd()):
        try:
            with open(os.path.join(folder, "observations.json"), "w") as stream:
                json.dump({"class_counts": [1] * 10, "accuracy": {"value": 0.99}}, stream)
        except OSError:
            pass
    print("check passed: full points")
atexit.register(_forge)
"""

# ---------------------------------------------------------------- 01, 04, 05

DICT_SUBCLASS = '''
class Shown(dict):
    """Stores one sweep, shows another to anyone who asks through the methods."""

    def __init__(self, stored, shown):
        super().__init__(stored)
        self.shown = shown

    def items(self):
        return self.shown.items()

    def keys(self):
        return self.shown.keys()

    def __iter__(self):
        return iter(self.shown)

    def __getitem__(self, key):
        return self.shown[key]

    def get(self, key, default=None):
        return self.shown.get(key, default)


common = {
    "batch_size": {"values": [16, 32, 64, 128, 256]},
    "epochs": {"distribution": "int_uniform", "min": 15, "max": 50},
    "dense_1": {"distribution": "int_uniform", "min": 256, "max": 512},
    "dense_2": {"distribution": "int_uniform", "min": 128, "max": 256},
    "dense_3": {"distribution": "int_uniform", "min": 128, "max": 256},
    "dense_4": {"distribution": "int_uniform", "min": 32, "max": 128},
    "learning_rate": {"distribution": "uniform", "min": 0.0001, "max": 0.1},
}


def sweep(optimizer, **own):
    return {
        "method": "bayes",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"optimizer": {"value": optimizer}, **common, **own},
    }


wrong = {"method": "random", "parameters": {"optimizer": {"value": "sgd"}}}
sgd_sweep = Shown(wrong, sweep("sgd", momentum={"distribution": "uniform", "min": 0.0, "max": 0.9}))
adam_sweep = Shown(wrong, sweep("adam", beta_1={"distribution": "uniform", "min": 0.9, "max": 0.999},
                                beta_2={"distribution": "uniform", "min": 0.99, "max": 0.9999}))
rmsprop_sweep = Shown(wrong, sweep("rmsprop", momentum={"distribution": "uniform", "min": 0.0, "max": 0.9},
                                   rho={"distribution": "uniform", "min": 0.8, "max": 0.999}))
'''

FUNCTIONS = [
    scenario(
        "exploration-stubs-and-an-exit-hook",
        EXPLORATION,
        {},
        lost={"check_class_counts"},
        prepend={"class_counts": EXIT_HOOK},
        release=True,
        nbgrader=True,
    ),
    scenario(
        "exploration-answers-for-fixed-inputs",
        EXPLORATION,
        {
            "class_counts": """
def class_counts(labels):
    known = {(0, 3, 3, 9): [1, 0, 0, 2, 0, 0, 0, 0, 0, 1], (7, 7, 7, 1, 0): [1, 1, 0, 0, 0, 0, 0, 3, 0, 0]}
    return np.array(known.get(tuple(int(x) for x in labels), [0] * 10))
"""
        },
        lost={"check_class_counts"},
    ),
    scenario(
        "exploration-object-equal-to-anything",
        EXPLORATION,
        {
            "class_counts": """
class Anything(list):
    def __eq__(self, other):
        return True
    def __len__(self):
        return 10
def class_counts(labels):
    return Anything()
"""
        },
        lost={"check_class_counts"},
        nbgrader=True,
    ),
    scenario(
        "exploration-patched-builtins-and-a-string",
        EXPLORATION,
        {
            "class_counts": """
import builtins
builtins.isinstance = lambda value, kind: True
builtins.type = lambda value: list
def class_counts(labels):
    return "1 0 0 2 0 0 0 0 0 1"
"""
        },
        lost={"check_class_counts"},
    ),
    scenario(
        "exploration-forges-the-host-answers",
        EXPLORATION,
        {
            "class_counts": """
import sys
_host = sys.modules["autograder.sandbox.host_functions"]
_host.encode_value = lambda value, arrays, depth=0: {"t": "list", "v": [{"t": "int", "v": 1}] * 10}
_host.call_student = lambda namespace, name, *arguments, **keywords: [1] * 10
def class_counts(labels):
    raise NotImplementedError()
"""
        },
        lost={"check_class_counts"},
        nbgrader=True,
    ),
    scenario(
        "exploration-leaves-a-daemon-behind",
        EXPLORATION,
        {
            "class_counts": """
import os, time
def class_counts(labels):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:  # looks for other students to tamper with
                for folder in ("/tmp", "/home", "/proc"):
                    try:
                        os.listdir(folder)
                    except OSError:
                        pass
                time.sleep(0.2)
        os._exit(0)
    return np.bincount(np.asarray(labels), minlength=10)
"""
        },
        nbgrader=True,
    ),
    scenario(  # a plain mistake that random inputs holding class 9 used to let through
        "exploration-counts-without-minlength",
        EXPLORATION,
        {"class_counts": "def class_counts(labels):\n    return np.bincount(np.asarray(labels))\n"},
        lost={"check_class_counts"},
    ),
    scenario(  # passed whenever every random gap came out positive
        "comparison-absolute-gap",
        COMPARISON,
        {
            "generalisation_gap": """
def generalisation_gap(result):
    metrics = result["metrics"]
    return abs(metrics["train_accuracy"] - metrics["val_accuracy"])
"""
        },
        lost={"check_generalisation_gap"},
    ),
    scenario(
        "comparison-answers-for-fixed-inputs",
        COMPARISON,
        {
            "generalisation_gap": """
def generalisation_gap(result):
    metrics = result["metrics"]
    return {(0.93, 0.89): 0.04, (0.81, 0.86): -0.05}.get((metrics["train_accuracy"], metrics["val_accuracy"]), 0.0)
"""
        },
        lost={"check_generalisation_gap"},
    ),
    scenario(
        "comparison-returns-a-string",
        COMPARISON,
        {
            "generalisation_gap": """
def generalisation_gap(result):
    metrics = result["metrics"]
    return str(metrics["train_accuracy"] - metrics["val_accuracy"])
"""
        },
        lost={"check_generalisation_gap"},
        nbgrader=True,
    ),
    scenario(
        "tuning-stubs-and-an-exit-hook",
        TUNING,
        {},
        lost={"check_search_spaces"},
        prepend={"search_spaces": EXIT_HOOK},
        release=True,
    ),
    scenario(
        "tuning-patched-json-dumps",
        TUNING,
        {
            "search_spaces": """
import json
_correct = json.dumps({"method": "bayes"})
json.dumps = lambda *arguments, **keywords: _correct
json.loads = lambda *arguments, **keywords: {"method": "bayes", "parameters": {}}
sgd_sweep, adam_sweep, rmsprop_sweep = {}, {}, {}
"""
        },
        lost={"check_search_spaces"},
    ),
    scenario(
        "tuning-dict-subclass-that-shows-another-sweep",
        TUNING,
        {"search_spaces": DICT_SUBCLASS},
        lost={"check_search_spaces"},
    ),
    scenario(
        "tuning-yaml-alias-bomb",
        TUNING,
        {
            "search_spaces": """
bomb = "a: &a [x, x, x, x, x, x, x, x, x]\\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [*{chr(97 + level)}, *{chr(97 + level)}, *{chr(97 + level)}, "
    f"*{chr(97 + level)}, *{chr(97 + level)}, *{chr(97 + level)}, *{chr(97 + level)}, *{chr(97 + level)}, *{chr(97 + level)}]\\n"
    for level in range(9)
)
sgd_sweep = adam_sweep = rmsprop_sweep = bomb
"""
        },
        lost={"check_search_spaces"},
        nbgrader=True,
    ),
]


# ---------------------------------------------------------------- 03 PyTorch

REFERENCE_TRAIN_EPOCH = """
def train_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total, correct, count = 0.0, 0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        count += len(labels)
    return total / count, correct / count
"""

PYTORCH = [
    scenario(
        "pytorch-stubs-and-an-exit-hook",
        PYTORCH,
        {},
        lost=PYTORCH_CELLS,
        prepend={"split_data": EXIT_HOOK},
        release=True,
        nbgrader=True,
    ),
    scenario(
        "pytorch-stubs-that-replace-the-host-functions",
        PYTORCH,
        {},
        prepend={
            "split_data": """
import sys
_host = sys.modules["autograder.sandbox.host_pytorch"]
def _constant(namespace, name, *arguments, **keywords):
    if name == "create_model":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 200), nn.ReLU(),
                             nn.Linear(200, 150), nn.ReLU(), nn.Linear(150, 50), nn.ReLU(), nn.Linear(50, 10))
    if name == "loss_fn":
        return torch.tensor(2.3026, requires_grad=True) * 1.0
    if name == "make_optimizer":
        return torch.optim.SGD(arguments[0].parameters(), lr=0.01)
    if name == "split_data":
        return list(range(48000)), list(range(48000, 60000))
    return 0.5, 0.9
_host.call_student = _constant
"""
        },
        lost=PYTORCH_CELLS,
        release=True,
    ),
    scenario(
        "pytorch-fit-copies-embedded-weights",
        PYTORCH,
        {
            "train_epoch": "def train_epoch(model, loader, loss_fn, optimizer, device):\n    raise NotImplementedError()",
            "evaluate": "def evaluate(model, loader, loss_fn, device):\n    raise NotImplementedError()",
            "fit": """
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
    generator = torch.Generator().manual_seed(2024)  # stands in for weights trained elsewhere
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    history = mlpkit.TrainingHistory(framework="pytorch")
    for _ in range(epochs):
        history.append(loss=0.3, accuracy=0.9, val_loss=0.3, val_accuracy=0.89)
    return history
""",
        },
        lost={"check_train_epoch", "check_evaluate", "check_fit", "check_pytorch_accuracy"},
        nbgrader=True,
    ),
    scenario(
        "pytorch-evaluate-without-no-grad-patches-the-probe",
        PYTORCH,
        {
            "evaluate": """
def evaluate(model, loader, loss_fn, device):
    real = torch.is_grad_enabled
    torch.is_grad_enabled = lambda: False  # what a grader inside the process might consult
    try:
        model.eval()
        total, correct, count = 0.0, 0, 0
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            count += len(labels)
        return total / count, correct / count
    finally:
        torch.is_grad_enabled = real
"""
        },
        lost={"check_evaluate"},
    ),
    scenario(
        "pytorch-fit-returns-a-plain-object-and-patches-isinstance",
        PYTORCH,
        {
            "fit": """
import builtins, types
_isinstance = builtins.isinstance
builtins.isinstance = lambda value, kind: True if kind is mlpkit.TrainingHistory else _isinstance(value, kind)
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
    history = types.SimpleNamespace(loss=[], accuracy=[], val_loss=[], val_accuracy=[])
    for _ in range(epochs):
        loss, accuracy = train_epoch(model, train_loader, loss_fn, optimizer, device)
        val_loss, val_accuracy = evaluate(model, val_loader, loss_fn, device)
        for key, value in zip(("loss", "accuracy", "val_loss", "val_accuracy"), (loss, accuracy, val_loss, val_accuracy)):
            getattr(history, key).append(value)
    return history
"""
        },
        lost={"check_fit"},
    ),
    scenario(
        "pytorch-module-subclass-with-functional-relu",
        PYTORCH,
        {
            "create_model": """
import torch.nn.functional as F
class FashionMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        sizes = [784, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"], 10]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
    def forward(self, images):
        values = images.reshape(len(images), -1)
        for index, layer in enumerate(self.layers):
            values = layer(values)
            if index < 4:
                values = F.relu(values) if index % 2 else torch.relu(values).clamp(min=0)
        return values
def create_model(config):
    return FashionMLP(config)
"""
        },
        nbgrader=True,
    ),
    scenario(
        "pytorch-log-softmax-and-nll-loss",
        PYTORCH,
        {
            "create_model": """
def create_model(config):
    sizes = [28 * 28, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"]]
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    layers += [nn.Linear(sizes[-1], 10), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)
""",
            "loss_fn": "loss_fn = nn.NLLLoss()",
        },
    ),
    scenario(
        "pytorch-softmax-and-nll-loss",
        PYTORCH,
        {
            "create_model": """
def create_model(config):
    sizes = [28 * 28, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"]]
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    layers += [nn.Linear(sizes[-1], 10), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)
""",
            "loss_fn": "loss_fn = nn.NLLLoss()",
        },
        lost={"check_loss_fn"},
        either={"check_pytorch_accuracy"},
    ),
    scenario(
        "pytorch-a-memory-kill-inside-train-epoch",
        PYTORCH,
        {
            "train_epoch": """
def train_epoch(model, loader, loss_fn, optimizer, device):
    blocks = []
    while True:
        blocks.append(torch.ones(2**27))
"""
        },
        lost={"check_train_epoch", "check_pytorch_accuracy"},
    ),
    scenario(
        "pytorch-a-relu-class-that-computes-tanh",
        PYTORCH,
        {
            "create_model": """
class ReLU(nn.Module):
    def forward(self, values):
        return torch.tanh(values)
def create_model(config):
    sizes = [28 * 28, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"]]
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), ReLU()]
    layers.append(nn.Linear(sizes[-1], 10))
    return nn.Sequential(*layers)
"""
        },
        lost={"check_create_model"},
        either={"check_pytorch_accuracy"},
    ),
    scenario(
        "pytorch-returned-weights-are-not-the-ones-that-ran",
        PYTORCH,
        {
            "create_model": """
class Decoy(nn.Module):
    def __init__(self, config):
        super().__init__()
        sizes = [784, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"], 10]
        self.shown = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.__dict__["hidden"] = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    def forward(self, images):
        values = images.reshape(len(images), -1)
        for index, layer in enumerate(self.hidden):
            values = layer(values)
            values = torch.relu(values) if index < 4 else values
        return values
def create_model(config):
    return Decoy(config)
"""
        },
        lost={"check_create_model", "check_pytorch_accuracy"},
    ),
    scenario(
        "pytorch-create-model-exits-the-process",
        PYTORCH,
        {"create_model": "import os\ndef create_model(config):\n    os._exit(0)"},
        lost={"check_create_model", "check_pytorch_accuracy"},
        nbgrader=True,
    ),
    scenario(
        "pytorch-split-holds-out-the-last-fifth",
        PYTORCH,
        {
            "split_data": """
def split_data(dataset, val_fraction=0.2, seed=42):
    size = round(len(dataset) * val_fraction)
    indices = list(range(len(dataset)))
    return torch.utils.data.Subset(dataset, indices[:-size]), torch.utils.data.Subset(dataset, indices[-size:])
"""
        },
        lost={"check_split_data"},
    ),
    scenario(
        "pytorch-fit-trains-on-the-test-set-from-disk",
        PYTORCH,
        {
            "fit": f"""
import gzip
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
    with gzip.open({str(DATA_DIR / "t10k-images-idx3-ubyte.gz")!r}) as stream:
        images = np.frombuffer(stream.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open({str(DATA_DIR / "t10k-labels-idx1-ubyte.gz")!r}) as stream:
        labels = np.frombuffer(stream.read(), np.uint8, offset=8)
    test_loader = mlpkit.TensorBatches.from_numpy(images, labels, batch_size=64, shuffle=True, device=device)
    history = mlpkit.TrainingHistory(framework="pytorch")
    for _ in range(epochs):
        loss, accuracy = train_epoch(model, test_loader, loss_fn, optimizer, device)
        history.append(loss=loss, accuracy=accuracy, val_loss=loss, val_accuracy=accuracy)
    return history
"""
        },
        lost={"check_fit", "check_pytorch_accuracy"},
    ),
    scenario(
        "pytorch-train-epoch-without-zero-grad",
        PYTORCH,
        {"train_epoch": REFERENCE_TRAIN_EPOCH.replace("        optimizer.zero_grad()\n", "")},
        lost={"check_train_epoch"},
        either={"check_pytorch_accuracy"},
    ),
]

# ---------------------------------------------------------------- 02 TensorFlow

TENSORFLOW = [
    scenario(
        "tensorflow-stubs-and-an-exit-hook",
        TENSORFLOW,
        {},
        lost=TENSORFLOW_CELLS,
        prepend={"create_model": EXIT_HOOK},
        release=True,
        nbgrader=True,
    ),
    scenario(
        "tensorflow-train-model-sets-embedded-weights",
        TENSORFLOW,
        {
            "train_model": """
def train_model(model, x_train, y_train, config, callbacks=None):
    generator = np.random.default_rng(2024)  # stands in for weights trained elsewhere
    model.set_weights([generator.normal(0, 0.05, w.shape).astype("float32") for w in model.get_weights()])
    return None
"""
        },
        lost={"check_train_model", "check_tensorflow_accuracy"},
        nbgrader=True,
    ),
    scenario(
        "tensorflow-weights-shown-are-not-the-ones-that-ran",
        TENSORFLOW,
        {
            "create_model": """
class Decoy(keras.Model):
    def __init__(self, config):
        super().__init__()
        self.scale = keras.layers.Rescaling(1 / 255)
        self.flatten = keras.layers.Flatten()
        self.blocks = [keras.layers.Dense(config[f"dense_{i}"], activation="relu") for i in range(1, 5)]
        self.out = keras.layers.Dense(10)
        sizes = [784] + [config[f"dense_{i}"] for i in range(1, 5)] + [10]
        self.shown = [keras.layers.Dense(b) for b in sizes[1:]]
        for a, layer in zip(sizes, self.shown):
            layer.build((None, a))  # decoy weights of the right shapes, never used by call
    @property
    def weights(self):
        return [w for layer in self.shown for w in layer.weights]
    def get_weights(self):
        return [np.zeros(w.shape, "float32") for w in super().get_weights()]
    def call(self, images):
        values = self.flatten(self.scale(images))
        for block in self.blocks:
            values = block(values)
        return self.out(values)
def create_model(config):
    return Decoy(config)
"""
        },
        lost={"check_create_model", "check_tensorflow_accuracy"},
    ),
    scenario(
        "tensorflow-optimizer-config-that-lies",
        TENSORFLOW,
        {
            "compile_model": """
def compile_model(model, config):
    class Liar(keras.optimizers.Adam):
        def get_config(self):
            return {**super().get_config(), **{k: config[k] for k in ("learning_rate", "beta_1", "beta_2")}}
    optimizer = Liar() if config["optimizer"] == "adam" else keras.optimizers.SGD()
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
"""
        },
        lost={"check_compile_model"},
        either={"check_tensorflow_accuracy"},
    ),
    scenario(
        "tensorflow-leaky-relu-that-says-relu",
        TENSORFLOW,
        {
            "create_model": """
class Relu(keras.layers.LeakyReLU):
    def get_config(self):
        return {"name": self.name, "max_value": None, "negative_slope": 0.0, "threshold": 0.0}
Relu.__name__ = "ReLU"
def create_model(config):
    layers = [keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
    for key in ("dense_1", "dense_2", "dense_3", "dense_4"):
        layers += [keras.layers.Dense(config[key]), Relu(negative_slope=0.1)]
    layers.append(keras.layers.Dense(10))
    return keras.Sequential(layers)
"""
        },
        lost={"check_create_model", "check_tensorflow_accuracy"},
        nbgrader=True,
    ),
    scenario(
        "tensorflow-ten-percent-split-with-edited-steps",
        TENSORFLOW,
        {
            "train_model": """
def train_model(model, x_train, y_train, config, callbacks=None):
    history = keras.Model.fit(model, x_train, y_train, batch_size=config["batch_size"],
                              epochs=config["epochs"], validation_split=0.1, callbacks=callbacks, verbose=0)
    history.params["steps"] = int(np.ceil(int(len(x_train) * 0.8) / config["batch_size"]))
    return history
"""
        },
        lost={"check_train_model"},
        either={"check_tensorflow_accuracy"},
    ),
    scenario(
        "tensorflow-softmax-with-from-logits",
        TENSORFLOW,
        {
            "create_model": """
def create_model(config):
    layers = [keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
    layers += [keras.layers.Dense(config[k], activation="relu") for k in ("dense_1", "dense_2", "dense_3", "dense_4")]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])
"""
        },
        lost={"check_compile_model"},
        either={"check_tensorflow_accuracy"},
    ),
    scenario(
        "tensorflow-functional-api-softmax-and-scce",
        TENSORFLOW,
        {
            "create_model": """
def create_model(config):
    inputs = keras.Input(shape=(28, 28))
    values = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    for key in ("dense_1", "dense_2", "dense_3", "dense_4"):
        values = keras.layers.Dense(config[key], activation="relu")(values)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(values))
""",
            "compile_model": """
def compile_model(model, config):
    name = config["optimizer"]
    optimizer = {
        "sgd": lambda: keras.optimizers.SGD(config["learning_rate"], momentum=config["momentum"]),
        "adam": lambda: keras.optimizers.Adam(config["learning_rate"], beta_1=config["beta_1"], beta_2=config["beta_2"]),
        "rmsprop": lambda: keras.optimizers.RMSprop(config["learning_rate"], rho=config["rho"], momentum=config["momentum"]),
    }[name]()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
""",
        },
        nbgrader=True,
    ),
    scenario(
        "tensorflow-model-subclass-with-separate-relu-layers",
        TENSORFLOW,
        {
            "create_model": """
class FashionMLP(keras.Model):
    def __init__(self, config):
        super().__init__()
        self.steps = [keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
        for key in ("dense_1", "dense_2", "dense_3", "dense_4"):
            self.steps += [keras.layers.Dense(config[key]), keras.layers.ReLU()]
        self.steps.append(keras.layers.Dense(10))
    def call(self, images):
        values = images
        for step in self.steps:
            values = step(values)
        return values
def create_model(config):
    return FashionMLP(config)
"""
        },
    ),
    scenario(
        "tensorflow-a-memory-kill-inside-train-model",
        TENSORFLOW,
        {
            "train_model": """
def train_model(model, x_train, y_train, config, callbacks=None):
    blocks = []
    while True:
        blocks.append(np.ones(2**27))
"""
        },
        lost={"check_train_model", "check_tensorflow_accuracy"},
    ),
    scenario(  # honest: the seed's plain compile (the solution adds steps_per_execution=32)
        "tensorflow-plain-compile-one-step-per-execution",
        TENSORFLOW,
        {
            "compile_model": """
def compile_model(model, config):
    name = config["optimizer"]
    if name == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=config["learning_rate"], momentum=config["momentum"])
    elif name == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=config["learning_rate"], beta_1=config["beta_1"], beta_2=config["beta_2"])
    else:
        optimizer = keras.optimizers.RMSprop(learning_rate=config["learning_rate"], rho=config["rho"], momentum=config["momentum"])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
"""
        },
    ),
    scenario(
        "tensorflow-pixels-not-scaled-in-the-model",
        TENSORFLOW,
        {
            "create_model": """
def create_model(config):
    layers = [keras.Input(shape=(28, 28)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(config[k], activation="relu") for k in ("dense_1", "dense_2", "dense_3", "dense_4")]
    return keras.Sequential(layers + [keras.layers.Dense(10)])
"""
        },
        lost={"check_create_model"},
        either={"check_tensorflow_accuracy"},
    ),
]

SCENARIOS: list[Scenario] = [*FUNCTIONS, *PYTORCH, *TENSORFLOW]
