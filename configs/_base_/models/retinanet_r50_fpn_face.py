# The face detector shared by HAMBox and its baseline: mmdet's RetinaNet
# R50-FPN with FPN levels P2 ... P7 (strides 4 ... 128), one square face
# anchor per location, one class, and test settings that keep enough boxes
# for WIDER FACE Hard (score threshold 0.02, up to 1,000 boxes per image).
# Box loss: Smooth L1 on the encoded deltas, as the HAMBox paper (beta 0.11,
# mmdet 1.x RetinaNet's; the stock 2.x / 3.x config uses L1).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

model = dict(
    neck=dict(
        in_channels=[256, 512, 1024, 2048],
        start_level=0,  # from C2: P2 ... P5, plus P6 and P7 on C5
        add_extra_convs='on_input',
        num_outs=6),
    bbox_head=dict(
        num_classes=1,
        anchor_generator=dict(
            _delete_=True,
            type='FaceAnchorGenerator',
            strides=[4, 8, 16, 32, 64, 128],
            anchor_scale=0.68,
            ratios=[1.0]),
        loss_bbox=dict(type='SmoothL1Loss', beta=0.11, loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='MaxIoUAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            min_pos_iou=0.35,
            match_low_quality=False,
            ignore_iof_thr=0.5)),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.02,
        nms=dict(type='nms', iou_threshold=0.4),
        max_per_img=1000))
# `tools/test.py --tta` (flip): merge with the same NMS and box budget as
# test_cfg (mmdet's fallback keeps 100 boxes at NMS 0.5, which costs Hard AP)
tta_model = dict(
    type='DetTTAModel',
    tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.4), max_per_img=1000))
