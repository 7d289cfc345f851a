"""Fashion-MNIST: find the four IDX files, check them, and read them into numpy.

The kit runs on offline hubs, on laptops that already hold Keras' or
torchvision's copy, and inside the grader, so several folders are looked at
before anything is downloaded. Every problem is one :class:`DatasetError` naming
the file and the fix, because the reader is usually a student. No framework is
imported here: both the Keras and the PyTorch notebooks read data through it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from mlpkit.settings import Settings, load_settings

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# MD5s of the files on the official mirror; other copies (the shared offline
# copy reorders the images) carry a SHA256SUMS file instead.
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
EXPECTED_COUNTS = {"train": 60_000, "test": 10_000}
IMAGE_SHAPE = (28, 28)
IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # uint8 images (3 dims) and labels (1 dim)
CHECKSUM_FILE = "SHA256SUMS"
_CHUNK_BYTES = 1 << 16
_REPLACE_FIX = (
    "Fix: replace it with an intact copy (for example the course's offline copy), or "
    "delete the damaged file so that mlpkit downloads the dataset again."
)


class DatasetError(ValueError):
    """The dataset cannot be found, downloaded or trusted; the message says how to fix it."""


@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """The four arrays (read-only, shared by every caller in the process) and their origin."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path
    where: str


def read_idx(path: Path | str) -> np.ndarray:
    """Read one uint8 IDX file (``.gz`` or raw) and check its header against its payload.

    The header is parsed here rather than trusted to a reader that silently
    reshapes whatever bytes it gets, so a truncated or mislabelled file fails
    with its name instead of training on garbage.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                content = stream.read()
        else:
            content = path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"{path} could not be read ({type(error).__name__}: {error}); the file is "
            f"truncated or corrupt. {_REPLACE_FIX}"
        ) from None
    magic = int.from_bytes(content[:4], "big")
    allowed = {3} if "idx3" in path.name else {1} if "idx1" in path.name else set(IDX_MAGIC)
    dimension_count = next((dims for dims in allowed if IDX_MAGIC[dims] == magic), None)
    if dimension_count is None:
        expected = " or ".join(f"0x{IDX_MAGIC[dims]:08x}" for dims in sorted(allowed))
        raise DatasetError(
            f"{path} is not a uint8 IDX file of the expected kind: magic number "
            f"0x{magic:08x}, expected {expected}. {_REPLACE_FIX}"
        )
    header_length = 4 + 4 * dimension_count
    if len(content) < header_length:
        raise DatasetError(f"{path} is too short to hold its IDX header. {_REPLACE_FIX}")
    shape = tuple(
        int.from_bytes(content[4 + 4 * index : 8 + 4 * index], "big")
        for index in range(dimension_count)
    )
    expected_length = int(np.prod(shape, dtype=np.int64))
    actual_length = len(content) - header_length
    if actual_length != expected_length:
        problem = "truncated" if actual_length < expected_length else "longer than its header says"
        raise DatasetError(
            f"{path} is {problem}: the header announces shape {shape} = {expected_length} "
            f"bytes of data, the file holds {actual_length}. {_REPLACE_FIX}"
        )
    array = np.frombuffer(content, dtype=np.uint8, offset=header_length).reshape(shape)
    array.setflags(write=False)
    return array


def dataset_file(directory: Path, stem: str) -> Path | None:
    """The gzipped file if present (checksums refer to it), else the raw one, else None."""
    for name in (f"{stem}.gz", stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def missing_files(directory: Path) -> list[str]:
    """The file stems of the four IDX files that ``directory`` lacks (.gz or raw)."""
    return [stem for stem in FILE_NAMES.values() if dataset_file(directory, stem) is None]


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_sha256(files: list[Path], checksum_file: Path) -> None:
    """Check each file the folder's SHA256SUMS lists; unlisted files rely on the IDX checks.

    The official MD5s only fit the mirror's files; a local copy (the shared one
    reorders the images) vouches for itself with ``<hex>  <name>`` lines.
    """
    checksums: dict[str, str] = {}
    for line_number, line in enumerate(checksum_file.read_text().splitlines(), start=1):
        parts = line.split(maxsplit=1)
        if not parts or line.startswith("#"):
            continue
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DatasetError(
                f"{checksum_file}, line {line_number}, is not '<sha256>  <file name>': "
                f"{line!r}. Fix: regenerate it with 'sha256sum *.gz > {CHECKSUM_FILE}'."
            )
        checksums[parts[1].strip().lstrip("*")] = parts[0].lower()
    for path in files:
        expected = checksums.get(path.name)
        if expected is None:
            continue
        actual = _file_digest(path, "sha256")
        if actual != expected:
            raise DatasetError(
                f"{path} does not match {checksum_file.name}: expected sha256 {expected}, "
                f"got {actual}. The file is damaged or was replaced. {_REPLACE_FIX}"
            )


def _check_split(split: str, images: np.ndarray, labels: np.ndarray, files: list[Path]) -> None:
    """Catch files that parse but hold the wrong thing (a swapped split, a different dataset)."""
    images_file, labels_file = files
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DatasetError(
            f"{images_file} holds images of shape {images.shape[1:]}, expected {IMAGE_SHAPE}: "
            f"not Fashion-MNIST. {_REPLACE_FIX}"
        )
    expected = EXPECTED_COUNTS[split]
    for path, count in ((images_file, len(images)), (labels_file, len(labels))):
        if count != expected:
            raise DatasetError(
                f"{path} holds {count} {split} examples, expected {expected}: a wrong or "
                f"mixed-up file. {_REPLACE_FIX}"
            )
    if labels.size and int(labels.max()) >= len(CLASS_NAMES):
        raise DatasetError(
            f"{labels_file} holds label {int(labels.max())}, expected 0..{len(CLASS_NAMES) - 1}. "
            f"{_REPLACE_FIX}"
        )


@functools.lru_cache(maxsize=4)
def _read_directory(directory: Path, signature: tuple) -> tuple[np.ndarray, ...]:
    """Read and check the four files once per process; ``signature`` re-reads edited files."""
    files = [dataset_file(directory, stem) for stem in FILE_NAMES.values()]
    if any(path is None for path in files):
        raise DatasetError(
            f"{directory} lacks {', '.join(missing_files(directory))}. Fix: put the four "
            f"Fashion-MNIST files there, or point FASHION_MNIST_DIR at a folder that holds them."
        )
    if (directory / CHECKSUM_FILE).is_file():
        _verify_sha256(files, directory / CHECKSUM_FILE)
    arrays = [read_idx(path) for path in files]
    _check_split("train", arrays[0], arrays[1], files[0:2])
    _check_split("test", arrays[2], arrays[3], files[2:4])
    return tuple(arrays)


def _signature(directory: Path) -> tuple:
    """Names, sizes and mtimes of the files read, so a replaced file is not served stale."""
    paths = [dataset_file(directory, stem) for stem in FILE_NAMES.values()]
    paths.append(directory / CHECKSUM_FILE)
    return tuple(
        (path.name, path.stat().st_size, path.stat().st_mtime_ns)
        for path in paths
        if path is not None and path.exists()
    )


def clear_cache() -> None:
    """Forget the arrays read so far (tests, or after replacing the files in place)."""
    _read_directory.cache_clear()


def find_dataset_dir(settings: Settings) -> tuple[Path, str] | None:
    """Return the first folder holding all four files and which lookup step found it.

    ``FASHION_MNIST_DIR`` is an explicit request: if it is set but unusable this
    raises at once rather than falling through to a download that would hide
    the typo (or hang on an offline machine).
    """
    if settings.data_dir is not None:
        directory = Path(settings.data_dir).expanduser()
        missing = missing_files(directory) if directory.is_dir() else None
        if missing is None or missing:
            problem = "is not a folder" if missing is None else f"lacks {', '.join(missing)}"
            raise DatasetError(
                f"FASHION_MNIST_DIR={directory} {problem}. Fix: point FASHION_MNIST_DIR at a "
                f"folder holding the four Fashion-MNIST files ({', '.join(FILE_NAMES.values())}, "
                f".gz or raw), or unset it to download them."
            )
        return directory, f"FASHION_MNIST_DIR ({directory})"
    candidates = (
        (Path(settings.keras_home) / "datasets" / "fashion-mnist", "Keras cache (KERAS_HOME)"),
        (
            Path(settings.torchvision_root) / "FashionMNIST" / "raw",
            "torchvision root (MLPKIT_TORCHVISION_ROOT)",
        ),
        (Path(settings.cache_dir) / "fashion-mnist", "mlpkit download cache (MLPKIT_CACHE_DIR)"),
    )
    for directory, label in candidates:
        directory = directory.expanduser()
        if directory.is_dir() and not missing_files(directory):
            return directory, f"{label}: {directory}"
    return None


def download_fashion_mnist(
    target_dir: Path,
    *,
    mirror_url: str,
    timeout: float,
    checksums: Mapping[str, str] = OFFICIAL_MD5,
) -> Path:
    """Download the four ``.gz`` files into ``target_dir`` and check their MD5s.

    Each file is written to ``<name>.part`` and renamed only after its checksum
    matches, so an interrupted or poisoned download never looks like a good
    file. ``timeout`` bounds the connection and every chunk, so an offline
    machine fails in seconds instead of hanging a notebook.
    """
    target_dir = Path(target_dir).expanduser()
    target_dir.mkdir(parents=True, exist_ok=True)
    for stem in FILE_NAMES.values():
        name = f"{stem}.gz"
        if name not in checksums:
            raise ValueError(f"checksums has no entry for {name}; give an MD5 for each file.")
        expected = checksums[name].lower()
        destination = target_dir / name
        if destination.is_file() and _file_digest(destination, "md5") == expected:
            continue
        _download_one(f"{mirror_url.rstrip('/')}/{name}", destination, expected, timeout)
    return target_dir


def _download_one(url: str, destination: Path, expected_md5: str, timeout: float) -> None:
    partial = destination.with_name(f"{destination.name}.part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=destination.name, leave=False
            ) as progress:
                for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
    except (OSError, ValueError, http.client.HTTPException) as error:
        # ValueError: a malformed MLPKIT_FASHION_MNIST_MIRROR (no scheme, for example).
        partial.unlink(missing_ok=True)
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        raise DatasetError(
            f"Downloading {destination.name} from {url} failed ({type(error).__name__}: "
            f"{reason}). Fix: on an offline machine set FASHION_MNIST_DIR to a folder holding "
            f"an offline copy of the four files; otherwise check the network or "
            f"MLPKIT_FASHION_MNIST_MIRROR."
        ) from None
    actual = digest.hexdigest()
    if actual != expected_md5:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"{destination.name} downloaded from {url} has MD5 {actual}, expected "
            f"{expected_md5}; it was discarded. Fix: retry, use another mirror "
            f"(MLPKIT_FASHION_MNIST_MIRROR), or set FASHION_MNIST_DIR to an offline copy."
        )
    os.replace(partial, destination)


def load_fashion_mnist(settings: Settings | None = None, *, download: bool = True) -> FashionMNIST:
    """Find (or download) the dataset and return its read-only arrays.

    Arrays are cached per process, so notebooks and sweeps that call this in a
    loop read the files once; use ``array.copy()`` for a writable copy.
    """
    settings = load_settings() if settings is None else settings
    found = find_dataset_dir(settings)
    if found is None:
        target = Path(settings.cache_dir).expanduser() / "fashion-mnist"
        if not download:
            raise DatasetError(
                f"Fashion-MNIST was not found in the Keras cache, the torchvision root or "
                f"{target}, and download=False. Fix: set FASHION_MNIST_DIR to a folder holding "
                f"the four files, or call with download=True."
            )
        download_fashion_mnist(
            target,
            mirror_url=settings.mirror_url,
            timeout=settings.download_timeout,
            checksums=OFFICIAL_MD5,
        )
        found = (target, f"downloaded from {settings.mirror_url} into {target}")
    directory, where = found
    directory = directory.resolve()
    x_train, y_train, x_test, y_test = _read_directory(directory, _signature(directory))
    return FashionMNIST(x_train, y_train, x_test, y_test, source=directory, where=where)


def prepare_torchvision_root(root: Path | str, *, settings: Settings | None = None) -> Path:
    """Lay out the kit's four files as ``<root>/FashionMNIST/raw`` and return ``root``.

    ``torchvision.datasets.FashionMNIST(root, download=False)`` opens the
    uncompressed IDX files in that folder, so the seed's own data path runs
    offline from the files the kit found and checked (same lookup as
    :func:`load_fashion_mnist`). Files already identical are left alone; each new
    one is written to ``.part`` and renamed, so an interrupted run leaves no
    half file that torchvision or the kit's lookup would take for a good one.
    """
    dataset = load_fashion_mnist(settings)
    raw_folder = Path(root).expanduser() / "FashionMNIST" / "raw"
    raw_folder.mkdir(parents=True, exist_ok=True)
    for stem in FILE_NAMES.values():
        source = dataset_file(dataset.source, stem)
        if source.suffix == ".gz":
            with gzip.open(source, "rb") as stream:
                content = stream.read()
        else:
            content = source.read_bytes()
        target = raw_folder / stem
        same_size = target.is_file() and target.stat().st_size == len(content)
        if same_size and target.read_bytes() == content:
            continue
        partial = target.with_name(f"{stem}.part")
        partial.write_bytes(content)
        os.replace(partial, target)
    return Path(root)


def load_training_data(settings: Settings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return only ``(x_train, y_train)``: what student code gets, so it never sees the test set.

    The grader's sandbox points ``FASHION_MNIST_DIR`` at a folder holding only the
    two training files; that folder is read as it is, without the test files.
    """
    settings = load_settings() if settings is None else settings
    if settings.data_dir is not None:
        directory = Path(settings.data_dir).expanduser()
        train_keys = ("train_images", "train_labels")
        files = [dataset_file(directory, FILE_NAMES[key]) for key in train_keys]
        test_keys = ("test_images", "test_labels")
        test_files = [dataset_file(directory, FILE_NAMES[key]) for key in test_keys]
        if all(files) and not any(test_files):
            images, labels = read_idx(files[0]), read_idx(files[1])
            _check_split("train", images, labels, files)
            return images, labels
    dataset = load_fashion_mnist(settings)
    return dataset.x_train, dataset.y_train
