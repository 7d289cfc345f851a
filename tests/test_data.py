"""Tests of mlpkit.data against the real offline copy; nothing here touches the internet.

The data folder comes from FASHION_MNIST_DIR (default ../shared/data/fashion-mnist
next to the repository). Downloads are exercised against a local http.server.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mlpkit.data import (
    CLASS_NAMES,
    DatasetError,
    FashionMNIST,
    clear_cache,
    download_fashion_mnist,
    find_dataset_dir,
    load_fashion_mnist,
    load_training_data,
    prepare_torchvision_root,
    read_idx,
)
from mlpkit.settings import Settings
from tests.conftest import DATA_DIR

GZ_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def isolated_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings whose every lookup folder is under tmp_path, so the user's caches never leak in."""
    values: dict[str, object] = {
        "data_dir": None,
        "keras_home": tmp_path / "keras",
        "torchvision_root": tmp_path / "torchvision",
        "cache_dir": tmp_path / "cache",
        "mirror_url": "http://127.0.0.1:9/",
        "download_timeout": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def link_real_files(directory: Path, names: tuple[str, ...] = GZ_NAMES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).symlink_to(DATA_DIR / name)
    return directory


def copy_real_files(directory: Path, names: tuple[str, ...] = GZ_NAMES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(DATA_DIR / name, directory / name)
    return directory


@pytest.fixture(scope="module")
def dataset() -> FashionMNIST:
    return load_fashion_mnist(Settings(data_dir=DATA_DIR), download=False)


# --- contents -------------------------------------------------------------------------------


def test_shapes_dtypes_and_ranges(dataset: FashionMNIST) -> None:
    assert dataset.x_train.shape == (60_000, 28, 28)
    assert dataset.y_train.shape == (60_000,)
    assert dataset.x_test.shape == (10_000, 28, 28)
    assert dataset.y_test.shape == (10_000,)
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        assert array.dtype == np.uint8
    assert dataset.x_train.max() == 255 and dataset.x_train.min() == 0
    assert 0.28 < dataset.x_train.mean() / 255 < 0.29
    assert set(np.unique(dataset.y_train)) == set(range(10))
    assert dataset.source == DATA_DIR.resolve()
    assert "FASHION_MNIST_DIR" in dataset.where


def test_per_class_counts(dataset: FashionMNIST) -> None:
    assert np.bincount(dataset.y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(dataset.y_test, minlength=10).tolist() == [1000] * 10


def test_class_names() -> None:
    assert CLASS_NAMES == (
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


def test_arrays_are_cached_and_read_only() -> None:
    dataset = load_fashion_mnist(Settings(data_dir=DATA_DIR), download=False)
    again = load_fashion_mnist(Settings(data_dir=DATA_DIR), download=False)
    assert again.x_train is dataset.x_train
    with pytest.raises(ValueError):
        dataset.x_train[0, 0, 0] = 1
    assert not dataset.y_test.flags.writeable


def test_load_training_data_reads_settings_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASHION_MNIST_DIR", str(DATA_DIR))
    dataset = load_fashion_mnist(Settings(data_dir=DATA_DIR), download=False)
    x_train, y_train = load_training_data()
    assert x_train is dataset.x_train and y_train is dataset.y_train


def test_raw_files_work(tmp_path: Path, dataset: FashionMNIST) -> None:
    for name in GZ_NAMES:
        with gzip.open(DATA_DIR / name, "rb") as source:
            (tmp_path / name.removesuffix(".gz")).write_bytes(source.read())
    raw = load_fashion_mnist(isolated_settings(tmp_path, data_dir=tmp_path), download=False)
    assert np.array_equal(raw.x_train, dataset.x_train)
    assert np.array_equal(raw.y_test, dataset.y_test)


# --- corrupt files --------------------------------------------------------------------------


def test_truncated_gz_names_the_file(tmp_path: Path) -> None:
    copy_real_files(tmp_path)
    target = tmp_path / "train-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:10_000])
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz") as caught:
        load_fashion_mnist(isolated_settings(tmp_path, data_dir=tmp_path), download=False)
    assert "Fix:" in str(caught.value)


def test_flipped_bytes_fail_the_sha256sums_check(tmp_path: Path) -> None:
    copy_real_files(tmp_path, GZ_NAMES)
    shutil.copyfile(DATA_DIR / "SHA256SUMS", tmp_path / "SHA256SUMS")
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    content = bytearray(target.read_bytes())
    content[len(content) // 2] ^= 0xFF
    target.write_bytes(bytes(content))
    expected = hashlib.sha256((DATA_DIR / target.name).read_bytes()).hexdigest()
    actual = hashlib.sha256(bytes(content)).hexdigest()
    with pytest.raises(DatasetError) as caught:
        load_fashion_mnist(isolated_settings(tmp_path, data_dir=tmp_path), download=False)
    message = str(caught.value)
    assert target.name in message and expected in message and actual in message
    assert "Fix:" in message


def test_wrong_magic_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "t10k-labels-idx1-ubyte"
    with gzip.open(DATA_DIR / f"{target.name}.gz", "rb") as source:
        content = bytearray(source.read())
    content[3] = 0x03  # 0x00000803 is the images magic
    target.write_bytes(bytes(content))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte.*0x00000801"):
        read_idx(target)


def test_truncated_raw_payload_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "t10k-images-idx3-ubyte"
    with gzip.open(DATA_DIR / f"{target.name}.gz", "rb") as source:
        target.write_bytes(source.read()[:-100])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte is truncated"):
        read_idx(target)


def test_swapped_split_fails_the_count_check(tmp_path: Path) -> None:
    copy_real_files(tmp_path)
    shutil.copyfile(DATA_DIR / "t10k-labels-idx1-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte.gz holds 10000 train"):
        load_fashion_mnist(isolated_settings(tmp_path, data_dir=tmp_path), download=False)


def test_missing_data_dir_names_dir_and_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DatasetError) as caught:
        load_fashion_mnist(isolated_settings(tmp_path, data_dir=missing))
    message = str(caught.value)
    assert str(missing) in message and "FASHION_MNIST_DIR" in message and "unset" in message
    assert not (tmp_path / "cache").exists(), "must not fall through to a download"


def test_incomplete_data_dir_lists_missing_files(tmp_path: Path) -> None:
    link_real_files(tmp_path / "partial", GZ_NAMES[:2])
    with pytest.raises(DatasetError) as caught:
        find_dataset_dir(isolated_settings(tmp_path, data_dir=tmp_path / "partial"))
    message = str(caught.value)
    assert "lacks t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte." in message
    assert str(tmp_path / "partial") in message and "unset it to download" in message


# --- lookup order ---------------------------------------------------------------------------


def test_keras_cache_found_when_data_dir_unset(tmp_path: Path) -> None:
    keras_folder = link_real_files(tmp_path / "keras" / "datasets" / "fashion-mnist")
    link_real_files(tmp_path / "torchvision" / "FashionMNIST" / "raw")
    directory, where = find_dataset_dir(isolated_settings(tmp_path))
    assert directory == keras_folder and "Keras" in where


def test_torchvision_raw_found_after_keras(tmp_path: Path) -> None:
    torch_folder = link_real_files(tmp_path / "torchvision" / "FashionMNIST" / "raw")
    link_real_files(tmp_path / "keras" / "datasets" / "fashion-mnist", GZ_NAMES[:3])
    dataset = load_fashion_mnist(isolated_settings(tmp_path), download=False)
    assert dataset.source == torch_folder.resolve() and "torchvision" in dataset.where


def test_data_dir_wins_over_caches(tmp_path: Path) -> None:
    link_real_files(tmp_path / "keras" / "datasets" / "fashion-mnist")
    settings = isolated_settings(tmp_path, data_dir=DATA_DIR)
    assert find_dataset_dir(settings) == (DATA_DIR, f"FASHION_MNIST_DIR ({DATA_DIR})")


def test_nothing_found_without_download(tmp_path: Path) -> None:
    assert find_dataset_dir(isolated_settings(tmp_path)) is None
    with pytest.raises(DatasetError, match="FASHION_MNIST_DIR"):
        load_fashion_mnist(isolated_settings(tmp_path), download=False)


# --- downloads from a local server ----------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requested: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        QuietHandler.requested.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    """An http.server on 127.0.0.1 serving copies of the real files; yields its base URL."""
    served = copy_real_files(tmp_path / "served")

    def handler(*args: object, **kwargs: object) -> QuietHandler:
        return QuietHandler(*args, directory=str(served), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    QuietHandler.requested = []
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shared_md5() -> dict[str, str]:
    return {name: hashlib.md5((DATA_DIR / name).read_bytes()).hexdigest() for name in GZ_NAMES}


def test_download_from_local_mirror(
    tmp_path: Path, mirror: str, shared_md5: dict[str, str], dataset: FashionMNIST
) -> None:
    target = tmp_path / "downloaded"
    assert download_fashion_mnist(target, mirror_url=mirror, timeout=5, checksums=shared_md5)
    assert sorted(path.name for path in target.iterdir()) == sorted(GZ_NAMES)
    for name in GZ_NAMES:
        assert (target / name).read_bytes() == (DATA_DIR / name).read_bytes()
    assert len(QuietHandler.requested) == 4
    download_fashion_mnist(target, mirror_url=mirror, timeout=5, checksums=shared_md5)
    assert len(QuietHandler.requested) == 4, "files with the right checksum are skipped"
    downloaded = load_fashion_mnist(isolated_settings(tmp_path, data_dir=target))
    assert np.array_equal(downloaded.x_train, dataset.x_train)


def test_load_downloads_into_cache_dir(
    tmp_path: Path, mirror: str, shared_md5: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlpkit.data.OFFICIAL_MD5", shared_md5)
    settings = isolated_settings(tmp_path, mirror_url=mirror, download_timeout=5.0)
    dataset = load_fashion_mnist(settings)
    assert dataset.source == (tmp_path / "cache" / "fashion-mnist").resolve()
    assert "downloaded from" in dataset.where and mirror in dataset.where
    assert "download cache" in find_dataset_dir(settings)[1]


def test_checksum_mismatch_leaves_no_file(
    tmp_path: Path, mirror: str, shared_md5: dict[str, str]
) -> None:
    wrong = dict(shared_md5, **{"train-labels-idx1-ubyte.gz": "0" * 32})
    target = tmp_path / "downloaded"
    with pytest.raises(DatasetError) as caught:
        download_fashion_mnist(target, mirror_url=mirror, timeout=5, checksums=wrong)
    message = str(caught.value)
    assert "train-labels-idx1-ubyte.gz" in message and "0" * 32 in message
    assert shared_md5["train-labels-idx1-ubyte.gz"] in message and "Fix:" in message
    assert not (target / "train-labels-idx1-ubyte.gz").exists()
    assert not list(target.glob("*.part"))


def test_closed_port_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    with pytest.raises(DatasetError) as caught:
        load_fashion_mnist(isolated_settings(tmp_path, mirror_url=url))
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert url in message and "FASHION_MNIST_DIR" in message
    assert not list((tmp_path / "cache" / "fashion-mnist").iterdir())


def test_silent_server_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepted by the kernel, never answered
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        started = time.monotonic()
        with pytest.raises(DatasetError) as caught:
            download_fashion_mnist(tmp_path / "never", mirror_url=url, timeout=1)
        assert time.monotonic() - started < 10
    assert url in str(caught.value) and "FASHION_MNIST_DIR" in str(caught.value)


def test_clear_cache_rereads(dataset: FashionMNIST) -> None:
    clear_cache()
    again = load_fashion_mnist(Settings(data_dir=DATA_DIR), download=False)
    assert again.x_train is not dataset.x_train
    assert np.array_equal(again.x_train, dataset.x_train)


def test_training_only_folder_serves_training_data(tmp_path) -> None:
    """The grader's sandbox holds only the two training files: enough for load_training_data."""
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (tmp_path / name).symlink_to(DATA_DIR / name)
    images, labels = load_training_data(Settings(data_dir=tmp_path))
    assert images.shape == (60_000, 28, 28) and labels.shape == (60_000,)
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte"):
        load_fashion_mnist(Settings(data_dir=tmp_path), download=False)


# --- torchvision's folder layout ----------------------------------------------------------


def test_torchvision_reads_the_laid_out_folder_offline(
    tmp_path: Path, dataset: FashionMNIST
) -> None:
    """The seed's data path: torchvision's FashionMNIST, download=False, on the kit's files."""
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    root = prepare_torchvision_root(tmp_path / "torchvision", settings=Settings(data_dir=DATA_DIR))
    assert root == tmp_path / "torchvision"
    train = TorchvisionFashionMNIST(root, train=True, download=False)
    test = TorchvisionFashionMNIST(root, train=False, download=False)
    assert np.array_equal(train.data.numpy(), dataset.x_train)
    assert np.array_equal(train.targets.numpy(), dataset.y_train)
    assert np.array_equal(test.data.numpy(), dataset.x_test)
    assert np.array_equal(test.targets.numpy(), dataset.y_test)
    # The kit's own lookup still finds a torchvision FashionMNIST/raw folder (raw files).
    found = load_fashion_mnist(isolated_settings(tmp_path), download=False)
    assert found.source == (root / "FashionMNIST" / "raw").resolve()
    assert "torchvision" in found.where and np.array_equal(found.x_train, dataset.x_train)


def test_laying_out_again_keeps_good_files_and_repairs_bad_ones(tmp_path: Path) -> None:
    settings = Settings(data_dir=DATA_DIR)
    raw_folder = prepare_torchvision_root(tmp_path, settings=settings) / "FashionMNIST" / "raw"
    labels_file = raw_folder / "train-labels-idx1-ubyte"
    images_file = raw_folder / "t10k-images-idx3-ubyte"
    kept_mtime = labels_file.stat().st_mtime_ns
    good_images = images_file.read_bytes()
    images_file.write_bytes(good_images[:-10] + bytes(10))  # same size, damaged payload
    prepare_torchvision_root(tmp_path, settings=settings)
    assert labels_file.stat().st_mtime_ns == kept_mtime
    assert images_file.read_bytes() == good_images
    assert sorted(path.name for path in raw_folder.iterdir()) == sorted(
        name.removesuffix(".gz") for name in GZ_NAMES
    ), "no .part file left behind"


def test_laying_out_without_the_dataset_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="FASHION_MNIST_DIR"):
        prepare_torchvision_root(tmp_path / "root", settings=isolated_settings(tmp_path / "empty"))
    # isolated_settings' download target is a closed port: nothing was laid out.
    assert not (tmp_path / "root" / "FashionMNIST").exists()
