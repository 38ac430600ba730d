# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The configs agree with the paper and with each other: batch and lr, the
box loss, the stock-RetinaNet swap, TTA, data-anchor-sampling."""
from functools import lru_cache
from pathlib import Path

import pytest
from mmdet.registry import TASK_UTILS, TRANSFORMS
from mmengine.config import Config
from mmengine.registry import DefaultScope


CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
# the R50 face configs; the K / T / focal ablations only change the mining
FACE_CONFIGS = [
    'hambox_r50_fpn_widerface.py', 'hambox_r50_fpn_das_widerface.py',
    'hambox_r50_fpn_widerface_vga.py', 'retinanet_r50_fpn_face_widerface.py'
]


@lru_cache(maxsize=None)
def load(name):
    """A config by file name (cached: do not modify it)."""
    return Config.fromfile(str(next(CONFIGS.rglob(name))))


@pytest.mark.parametrize(
    'name', ['hambox_r50_fpn_widerface.py',
             'retinanet_r50_fpn_face_widerface.py'])
def test_batch_and_lr_agree(name):
    """lr 0.02 for a total batch of 32: 4 images on each of 8 GPUs, and
    ``--auto-scale-lr`` scales from that base."""
    cfg = load(name)
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_dataloader.batch_size * 8 == 32
    assert cfg.auto_scale_lr.base_batch_size == 32
    assert 'enable' in cfg.auto_scale_lr  # tools/train.py --auto-scale-lr


def test_tiny_config_batch_and_lr_agree():
    cfg = load('hambox_r18_fpn_tiny_widerface.py')
    assert cfg.auto_scale_lr.base_batch_size == \
        cfg.train_dataloader.batch_size


@pytest.mark.parametrize('name', FACE_CONFIGS)
def test_face_configs_use_smooth_l1_on_deltas_and_keep_tta_boxes(name):
    cfg = load(name)
    head = cfg.model.bbox_head
    assert head.loss_bbox.type == 'SmoothL1Loss'
    assert not head.get('reg_decoded_bbox', False)
    tta = cfg.tta_model.tta_cfg
    assert tta.max_per_img == cfg.model.test_cfg.max_per_img == 1000
    assert tta.nms == cfg.model.test_cfg.nms
    assert tta.nms.iou_threshold == 0.4


def test_baseline_has_the_same_box_loss_and_tta():
    ham = load('hambox_r50_fpn_widerface.py')
    base = load('retinanet_r50_fpn_face_widerface.py')
    assert ham.model.bbox_head.loss_bbox == base.model.bbox_head.loss_bbox
    assert ham.tta_model == base.tta_model


def test_stock_swap_keeps_low_quality_matching():
    import mmdet
    cfg = load('hambox_retinanet_r50_fpn_1x_coco.py')
    stock = Config.fromfile(
        Path(mmdet.__file__).parent / '.mim' / 'configs' / 'retinanet' /
        'retinanet_r50_fpn_1x_coco.py')
    stock_assigner = TASK_UTILS.build(stock.model.train_cfg.assigner)
    assigner = TASK_UTILS.build(cfg.model.train_cfg.assigner)
    assert stock_assigner.match_low_quality is True
    for key in ('pos_iou_thr', 'neg_iou_thr', 'min_pos_iou',
                'match_low_quality', 'gt_max_assign_all', 'ignore_iof_thr'):
        assert getattr(assigner, key) == getattr(stock_assigner, key), key


def test_data_anchor_sampling_uses_the_generators_anchor_sizes():
    cfg = load('hambox_r50_fpn_das_widerface.py')
    generator = TASK_UTILS.build(cfg.model.bbox_head.anchor_generator)
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline == cfg.train_pipeline
    with DefaultScope.overwrite_default_scope('mmdet'):  # as the runner
        choice = TRANSFORMS.build(
            next(t for t in pipeline if t['type'] == 'RandomChoice'))
    das = choice.transforms[0].transforms[0]
    assert type(das).__name__ == 'DataAnchorSampling'
    assert das.anchor_sizes == pytest.approx(generator.anchor_sizes)
    assert das.anchor_sizes[0] == pytest.approx(0.68 * 16)
    # everything else is hambox_r50_fpn_widerface.py
    base = load('hambox_r50_fpn_widerface.py')
    assert cfg.model == base.model
