# hambox_r50_fpn_widerface.py with PyramidBox's data-anchor-sampling: half of
# the training images are rescaled so that a random face takes the size of a
# random anchor (DataAnchorSampling, 640 x 640 output), the other half get the
# usual random square crop. The anchor sizes are those of the face anchor
# generator (anchor_scale x 4 x stride: 10.9 ... 348 px), computed from the
# same two values the generator is configured with, not the transform's
# unscaled defaults (16 ... 512).
_base_ = './hambox_r50_fpn_widerface.py'

anchor_scale = 0.68
anchor_strides = [4, 8, 16, 32, 64, 128]
model = dict(
    bbox_head=dict(
        anchor_generator=dict(
            strides=anchor_strides, anchor_scale=anchor_scale)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWIDERFaceAnnotations'),
    dict(
        type='RandomChoice',
        transforms=[
            [
                dict(
                    type='DataAnchorSampling',
                    anchor_sizes=[anchor_scale * 4 * s
                                  for s in anchor_strides],
                    crop_size=640,
                    prob=1.0)
            ],
            [
                dict(
                    type='RandomSquareCrop',
                    crop_choice=[0.3, 0.45, 0.6, 0.8, 1.0])
            ],
        ],
        prob=[0.5, 0.5]),
    dict(type='Resize', scale=(640, 640), keep_ratio=False),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
