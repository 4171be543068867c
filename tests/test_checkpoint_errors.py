"""One-line errors for checkpoints that torch.load(weights_only=True) refuses."""
import collections

import pytest
import torch

from neurosim.checkpoint import load_raw
from neurosim.errors import CheckpointError


class _NotATensor:
    pass


def test_garbage_file_is_corrupt(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_text("garbage")
    with pytest.raises(CheckpointError, match=r"garbage\.pt: corrupt or not a PyTorch checkpoint$"):
        load_raw(path)


def test_truncated_checkpoint_is_corrupt_in_one_line(tmp_path):
    full = tmp_path / "full.pt"
    torch.save({"w": torch.ones(100, 100)}, full)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(full.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"cut\.pt: corrupt or not a PyTorch checkpoint") as err:
        load_raw(cut)
    assert "\n" not in str(err.value) and "high likelihood" not in str(err.value)


def test_pickled_code_is_refused_not_run(tmp_path):
    path = tmp_path / "code.pt"
    torch.save({"obj": _NotATensor()}, path)
    with pytest.raises(CheckpointError, match=r"refused by torch.load\(weights_only=True\): .*Unsupported global") as err:
        load_raw(path)
    assert "add_safe_globals" not in str(err.value)  # torch's advice to trust the file is dropped


def test_plain_containers_still_load(tmp_path):
    path = tmp_path / "ok.pt"
    torch.save({"w": torch.zeros(2), "c": collections.OrderedDict(a=1)}, path)
    assert load_raw(path)["c"]["a"] == 1
