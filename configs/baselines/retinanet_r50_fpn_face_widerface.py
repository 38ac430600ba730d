# The fair baseline of hambox_r50_fpn_widerface.py: the same network, anchors,
# data pipeline and schedule with mmdet's own RetinaHead, MaxIoUAssigner
# (IoU >= 0.35 positive, below negative, no low-quality matching: the same
# stage-1 matching as HAMBox) and FocalLoss. Only the mining strategy differs.
# mmdet's stock low-quality matching (every face gets its best anchor) is one
# cfg-option away: model.train_cfg.assigner.match_low_quality=True.
_base_ = [
    '../_base_/models/retinanet_r50_fpn_face.py',
    '../_base_/datasets/wider_face.py',
    '../_base_/schedules/schedule_wider_100e.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation'],
    allow_failed_imports=False)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
