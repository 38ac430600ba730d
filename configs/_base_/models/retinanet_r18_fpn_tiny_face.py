# The small face detector that trains in minutes on 2 CPU cores, shared by the
# tiny HAMBox config and its baseline: ResNet-18 with half the channels and no
# ImageNet weights, a 64-channel FPN on P2 ... P7, a head of 2 convs with
# GroupNorm, the face anchors of the R50 model (one square anchor per
# location, scale 0.68), the GIoU box loss on decoded boxes, mmdet's
# RetinaHead, MaxIoUAssigner at 0.35 / 0.35 without low-quality matching and
# FocalLoss (the baseline; HAMBox configs change head, loss and assigner).
_base_ = './retinanet_r50_fpn_face.py'

model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    bbox_head=dict(
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=2.0)),
    test_cfg=dict(nms_pre=1000, max_per_img=300))
