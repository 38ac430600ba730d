# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""mmengine Runner checkpoints load under torch's weights_only check once
``register_mmengine_safe_globals()`` ran (``register_all_modules()`` and
``import hambox_mmdet.models`` call it; tests/test_utils/test_registration.py
checks those in fresh interpreters), and anything else pickled is still
refused."""
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from hambox_mmdet.utils import (history_buffer_getattr,
                                register_mmengine_safe_globals)


@pytest.fixture(autouse=True, scope='module')
def allow_list():
    register_mmengine_safe_globals()


def test_registering_twice_adds_nothing():
    register_mmengine_safe_globals()
    allowed = torch.serialization.get_safe_globals()
    assert register_mmengine_safe_globals()
    assert sorted(map(str, torch.serialization.get_safe_globals())) == \
        sorted(map(str, allowed))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(labels))**2).mean())
        return out


class ToyDataset(Dataset):
    METAINFO = dict(classes=('face', ))

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=torch.ones(1))


class NotAllowed:
    pass


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('runner')
    runner = Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='mmengine')
    runner.train()
    return work_dir / 'epoch_1.pth'


def test_plain_torch_refuses_runner_checkpoints(runner_checkpoint):
    """The problem being solved: torch's own allow-list refuses them."""
    torch.serialization.clear_safe_globals()
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
            str(runner_checkpoint))
        assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
        assert 'builtins.getattr' in unsafe
        with pytest.raises(pickle.UnpicklingError, match='Unsupported'):
            torch.load(runner_checkpoint, weights_only=True)
    finally:
        register_mmengine_safe_globals()


def test_runner_checkpoint_loads_with_weights_only(runner_checkpoint):
    ckpt = torch.load(runner_checkpoint, weights_only=True)
    assert ckpt['meta']['epoch'] == 1
    assert 'linear.weight' in ckpt['state_dict']
    scalars = ckpt['message_hub']['log_scalars']
    assert isinstance(scalars['train/loss'], HistoryBuffer)
    assert scalars['train/loss'].statistics('mean') > 0
    # and through mmengine's own loader, as `mim test` / resume use it
    from mmengine.runner import load_checkpoint
    model = ToyModel()
    load_checkpoint(model, str(runner_checkpoint))
    assert torch.equal(model.linear.weight,
                       ckpt['state_dict']['linear.weight'])


def test_other_objects_are_still_refused(tmp_path, runner_checkpoint):
    ckpt = torch.load(runner_checkpoint, weights_only=True)
    ckpt['meta']['extra'] = NotAllowed()
    path = tmp_path / 'tampered.pth'
    torch.save(ckpt, path)
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        torch.load(path, weights_only=True)


class EvilReduce:
    """Pickles as getattr(HistoryBuffer, '__init__'): a lookup mmengine
    never writes."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': EvilReduce()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(path, weights_only=True)
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(dict, 'mean')
