# The fair baseline of hambox_r18_fpn_tiny_widerface.py (the small CPU model):
# everything is inherited from it (network, face anchors, data, pipeline,
# schedule, test settings) except the mining strategy: mmdet's RetinaHead,
# MaxIoUAssigner (IoU >= 0.35 positive, below negative, no low-quality
# matching: HAMBox's stage 1) and FocalLoss. The box loss (GIoU on decoded
# boxes) is the tiny model's, as for HAMBox. Used by
# benchmarks/ablation_real_wider.py.
_base_ = '../hambox/hambox_r18_fpn_tiny_widerface.py'

model = dict(
    bbox_head=dict(
        type='RetinaHead',
        loss_cls=dict(
            _delete_=True,
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='MaxIoUAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            min_pos_iou=0.35,
            match_low_quality=False,
            ignore_iof_thr=0.5)))
