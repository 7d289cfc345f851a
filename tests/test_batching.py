import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset, random_split

from mlpkit.batching import TensorBatches, to_tensors


def _images(count: int = 10) -> tuple[np.ndarray, np.ndarray]:
    images = np.random.default_rng(0).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    return images, (np.arange(count) % 10).astype(np.uint8)


def test_to_tensors_scales_like_to_tensor() -> None:
    images, labels = _images()
    image_tensor, label_tensor = to_tensors(images, labels)
    assert image_tensor.dtype == torch.float32 and label_tensor.dtype == torch.int64
    assert torch.allclose(image_tensor * 255, torch.from_numpy(images).float())
    assert image_tensor.min() >= 0.0 and image_tensor.max() <= 1.0
    with pytest.raises(ValueError, match="shape"):
        to_tensors(images.reshape(10, -1), labels)


def test_every_example_once_per_epoch_and_shuffles_repeat_with_the_seed() -> None:
    images, labels = _images(10)
    batches = TensorBatches.from_numpy(images, labels, batch_size=4, shuffle=True, seed=3)
    assert len(batches) == 3
    epoch_one = torch.cat([label for _, label in batches])
    epoch_two = torch.cat([label for _, label in batches])
    assert sorted(epoch_one.tolist()) == sorted(labels.tolist())
    assert not torch.equal(epoch_one, epoch_two), "a new order every epoch"
    again = TensorBatches.from_numpy(images, labels, batch_size=4, shuffle=True, seed=3)
    assert torch.equal(torch.cat([label for _, label in again]), epoch_one)
    assert len(TensorBatches.from_numpy(images, labels, batch_size=4, drop_last=True)) == 2


def test_images_stay_paired_with_their_labels() -> None:
    images, labels = _images(20)
    batches = TensorBatches.from_numpy(images, labels, batch_size=6, shuffle=True, seed=1)
    lookup = {bytes(image.tobytes()): label for image, label in zip(images, labels, strict=True)}
    for image_batch, label_batch in batches:
        for image, label in zip(image_batch, label_batch, strict=True):
            original = (image * 255).round().to(torch.uint8).numpy().tobytes()
            assert lookup[original] == label.item()


def test_from_dataset_reads_a_random_split_subset() -> None:
    images, labels = _images(20)
    dataset = TensorDataset(*to_tensors(images, labels))
    train, validation = random_split(dataset, [15, 5], generator=torch.Generator().manual_seed(0))
    batches = TensorBatches.from_dataset(validation, batch_size=2)
    assert len(batches.dataset) == 5
    expected = [dataset[index][1].item() for index in validation.indices]
    assert torch.cat([label for _, label in batches]).tolist() == expected


def test_bad_arguments() -> None:
    images, labels = _images(4)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        TensorBatches.from_numpy(images, labels, batch_size=0)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        to_tensors(images, labels[:3])
