# The small CPU face detector and the fair baseline of HAMBox on it: mmdet's
# RetinaHead, MaxIoUAssigner (IoU >= 0.35 positive, below negative, no
# low-quality matching: HAMBox's stage 1) and FocalLoss on the network of
# ../_base_/models/retinanet_r18_fpn_tiny_face.py. It trains in a few minutes
# on 2 CPU cores: ResNet-18 with half the channels and no pretrained weights,
# 64-channel FPN, a GroupNorm head of 2 convs, GIoU on decoded boxes, AdamW,
# 320 x 320 training crops and a 12-epoch schedule.
# ../hambox/hambox_r18_fpn_tiny_widerface.py is this config with HAMBox's
# mining and loss swapped in (the only difference); used by the quick start,
# the end-to-end tests and benchmarks/ablation_real_wider.py.
#
# Data: WIDER FACE in the official layout under $HAMBOX_TINY_DATA, by default
# ~/.cache/hambox_mmdet/widerface_tiny/, where
# `python tools/misc/make_tiny_widerface.py` (or the quick start) writes a
# small generated face set (official text annotations, images and evaluation
# .mat files). Point HAMBOX_TINY_DATA at a real WIDER FACE folder to use it
# instead (missing images are skipped with a count).
_base_ = [
    '../_base_/models/retinanet_r18_fpn_tiny_face.py',
    '../_base_/datasets/wider_face.py',
    '../_base_/schedules/schedule_wider_100e.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation'],
    allow_failed_imports=False)

data_root = '{{$HAMBOX_TINY_DATA:~/.cache/hambox_mmdet/widerface_tiny}}/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWIDERFaceAnnotations'),
    dict(type='RandomSquareCrop', crop_choice=[0.5, 0.7, 0.85, 1.0]),
    dict(type='Resize', scale=(320, 320), keep_ratio=False),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        on_missing_image='skip',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, on_missing_image='skip'))
test_dataloader = val_dataloader
val_evaluator = dict(gt_dir=data_root + 'eval_tools/ground_truth/')
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0005,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=0.002, weight_decay=0.05))
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                    max_keep_ckpts=1))
log_processor = dict(window_size=10)
