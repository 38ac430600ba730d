# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Every config of ours loads, imports the registering hambox_mmdet
subpackages itself and builds."""
from pathlib import Path

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / 'configs').glob('[!_]*/*.py'))


def load(name: str) -> Config:
    return Config.fromfile(str(next(c for c in CONFIGS if c.name == name)))


def test_config_names_are_unique():
    # mim finds a config by its file name anywhere in the package
    names = [c.name for c in (REPO / 'configs').rglob('*.py')]
    assert len(names) == len(set(names))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_builds_model(path):
    cfg = Config.fromfile(str(path))
    # the registering subpackages (the bare package registers nothing)
    assert cfg.custom_imports == dict(
        imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
                 'hambox_mmdet.evaluation'],
        allow_failed_imports=False)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.bbox_head is not None


def test_hambox_face_config():
    cfg = load('hambox_r50_fpn_widerface.py')
    head, train = cfg.model.bbox_head, cfg.model.train_cfg
    assert head.type == 'HAMBoxHead'
    assert head.loss_cls.type == 'RegressionAwareFocalLoss'
    assert head.anchor_generator == dict(
        type='FaceAnchorGenerator',
        strides=[4, 8, 16, 32, 64, 128],
        anchor_scale=0.68,
        ratios=[1.0])
    assert cfg.model.neck.num_outs == 6 and cfg.model.neck.start_level == 0
    assert train.assigner.type == 'HAMBoxAssigner'
    assert (train.assigner.num_compensate,
            train.assigner.compensate_iou_thr) == (5, 0.5)
    assert cfg.model.test_cfg.score_thr == 0.02
    assert cfg.model.test_cfg.max_per_img == 1000
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    assert cfg.test_evaluator.type == 'WIDERFaceMetric'


def test_baseline_differs_only_in_strategy():
    ham = load('hambox_r50_fpn_widerface.py')
    base = load('retinanet_r50_fpn_face_widerface.py')
    assert base.model.bbox_head.type == 'RetinaHead'
    assert base.model.bbox_head.loss_cls.type == 'FocalLoss'
    assert base.model.train_cfg.assigner.type == 'MaxIoUAssigner'
    assert base.model.train_cfg.assigner.pos_iou_thr == 0.35
    assert base.model.train_cfg.assigner.neg_iou_thr == 0.35
    assert not base.model.train_cfg.assigner.match_low_quality
    for key in ('backbone', 'neck', 'data_preprocessor', 'test_cfg'):
        assert ham.model[key] == base.model[key], key
    ham_head = {k: v for k, v in ham.model.bbox_head.items()
                if k not in ('type', 'loss_cls')}
    base_head = {k: v for k, v in base.model.bbox_head.items()
                 if k not in ('type', 'loss_cls')}
    assert ham_head == base_head
    for key in ('train_dataloader', 'val_dataloader', 'optim_wrapper',
                'param_scheduler', 'train_cfg', 'test_evaluator'):
        assert ham[key] == base[key], key


@pytest.mark.parametrize('name,key,value', [
    ('hambox_r50_fpn_k3_widerface.py', 'num_compensate', 3),
    ('hambox_r50_fpn_k7_widerface.py', 'num_compensate', 7),
    ('hambox_r50_fpn_t04_widerface.py', 'compensate_iou_thr', 0.4),
    ('hambox_r50_fpn_t06_widerface.py', 'compensate_iou_thr', 0.6),
])
def test_ablations(name, key, value):
    assert load(name).model.train_cfg.assigner[key] == value


def test_vga_and_original_size_testing():
    full = load('hambox_r50_fpn_widerface.py').test_dataloader.dataset
    vga = load('hambox_r50_fpn_widerface_vga.py').test_dataloader.dataset
    resize = [t for t in full.pipeline if t.type == 'Resize']
    assert resize == [dict(type='Resize', scale_factor=1.0, keep_ratio=True)]
    resize = [t for t in vga.pipeline if t.type == 'Resize']
    assert resize == [dict(type='Resize', scale=(640, 640), keep_ratio=True)]
