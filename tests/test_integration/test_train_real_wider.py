# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""A few CPU training iterations of HAMBox on real WIDER FACE images (from
../shared) through mmengine's Runner: the loss goes down."""
import os
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'


class LossRecorder(Hook):

    def __init__(self):
        self.losses, self.compensated = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append(float(outputs['loss'].detach()))
        self.compensated.append(float(outputs['num_pos_com'].detach()))


@pytest.mark.slow
def test_hambox_loss_decreases_on_real_images(wider_root, tmp_path,
                                              monkeypatch):
    monkeypatch.setenv('HAMBOX_TINY_DATA', str(wider_root))
    cfg = Config.fromfile(str(TINY))
    cfg.work_dir = str(tmp_path)
    cfg.randomness = dict(seed=0, deterministic=False)
    # the same 4 real images every step (one step per epoch), so that the
    # loss of a working detector must fall; faces are mined (compensated)
    cfg.train_dataloader.update(
        batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.indices = 4
    # no random augmentation: the same inputs at every step
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadWIDERFaceAnnotations'),
        dict(type='Resize', scale=(320, 320), keep_ratio=False),
        dict(type='PackDetInputs')
    ]
    cfg.train_cfg.max_epochs = 25
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=5)
    assert cfg.train_dataloader.dataset.on_missing_image == 'skip'
    runner = Runner.from_cfg(cfg)
    # the real files: 12,880 train images annotated, 1,239 present
    assert len(runner.train_dataloader.dataset) == 4
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    losses = np.array(recorder.losses)
    assert len(losses) == 25 and np.isfinite(losses).all()
    assert losses[-5:].mean() < 0.7 * losses[:5].mean(), losses.round(3)
    assert sum(recorder.compensated) > 0
    assert os.listdir(wider_root)  # read-only data left in place
