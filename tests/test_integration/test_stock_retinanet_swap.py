# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The documented three-line change turns mmdet's stock RetinaNet into HAMBox."""
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

REPO = Path(__file__).resolve().parents[2]
SWAP = REPO / 'configs' / 'hambox' / 'hambox_retinanet_r50_fpn_1x_coco.py'


def test_the_change_is_three_lines():
    lines = [
        line for line in SWAP.read_text().splitlines()
        if line.strip() and not line.startswith('#')
        and not line.startswith('_base_')
    ]
    assert len(lines) == 3


def test_swap_builds_and_trains_one_step():
    cfg = Config.fromfile(str(SWAP))
    import mmdet
    stock = Config.fromfile(
        Path(mmdet.__file__).parent / '.mim' / 'configs' / 'retinanet' /
        'retinanet_r50_fpn_1x_coco.py')
    assert stock.model.bbox_head.type == 'RetinaHead'
    cfg.model.backbone.init_cfg = None  # no download in tests
    model = MODELS.build(cfg.model)
    head = model.bbox_head
    assert type(head).__name__ == 'HAMBoxHead'
    assert type(head.assigner).__name__ == 'HAMBoxAssigner'
    assert type(head.loss_cls).__name__ == 'RegressionAwareFocalLoss'
    # the stock thresholds carried over to stage 1
    assert head.assigner.pos_iou_thr == 0.5
    assert head.assigner.neg_iou_thr == 0.4
    assert head.cls_out_channels == 80

    torch.manual_seed(0)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(128, 128),
            pad_shape=(128, 128),
            batch_input_shape=(128, 128),
            scale_factor=(1., 1.)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[10., 10., 60., 70.], [70., 20., 120., 90.]]),
        labels=torch.tensor([0, 5]))
    model.train()
    losses = model.loss(torch.rand(1, 3, 128, 128), [sample])
    assert {'loss_cls', 'loss_bbox', 'num_pos_com'} <= set(losses)
    total = losses['loss_cls'] + losses['loss_bbox']
    assert torch.isfinite(total)
    total.backward()
    assert head.retina_cls.weight.grad.abs().sum() > 0
    assert model.backbone.layer4[0].conv1.weight.grad is not None
