# HAMBox (CVPR 2020) on WIDER FACE: RetinaNet R50-FPN P2-P7 with face
# anchors (scale 0.68), online high-quality anchor mining (K = 5, T = 0.5) and
# the regression-aware focal loss. ImageNet-initialised ResNet-50 (downloaded
# from torchvision on first use). Tested at the original image size; see
# hambox_r50_fpn_widerface_vga.py for VGA.
_base_ = [
    '../_base_/models/retinanet_r50_fpn_face.py',
    '../_base_/datasets/wider_face.py',
    '../_base_/schedules/schedule_wider_100e.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['hambox_mmdet'], allow_failed_imports=False)

model = dict(
    bbox_head=dict(
        type='HAMBoxHead',
        loss_cls=dict(
            type='RegressionAwareFocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0,
            ignore_reg_iou_thr=0.5,
            # one divisor, all positives: the paper's literal separate N_com
            # collapses training (BENCHMARKS.md, root-cause table);
            # hambox_r50_fpn_separate_widerface.py keeps the literal form
            com_normalizer='joint',
            iou_weighted=True)),
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='HAMBoxAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            match_low_quality=False,
            num_compensate=5,  # K
            compensate_iou_thr=0.5,  # T
            ignore_iof_thr=0.5)))

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
