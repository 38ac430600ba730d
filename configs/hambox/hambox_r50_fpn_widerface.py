# HAMBox (CVPR 2020) on WIDER FACE: its baseline
# (../baselines/retinanet_r50_fpn_face_widerface.py: RetinaNet R50-FPN P2-P7
# with face anchors of scale 0.68, ImageNet-initialised ResNet-50, tested at
# the original image size) with the model swapped for its HAMBox delta
# (../_base_/models/hambox_r50_fpn_face.py: online high-quality anchor mining,
# K = 5, T = 0.5, and the regression-aware focal loss). See
# hambox_r50_fpn_widerface_vga.py for VGA testing.
_base_ = [
    '../_base_/models/hambox_r50_fpn_face.py',
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
