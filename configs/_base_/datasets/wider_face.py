# WIDER FACE, read from the official files with no conversion step:
#   data/widerface/
#     WIDER_train/images/<event>/*.jpg     WIDER_val/images/...   WIDER_test/images/...
#     wider_face_split/wider_face_{train,val}_bbx_gt.txt, wider_face_test_filelist.txt
#     eval_tools/ground_truth/wider_face_val.mat, wider_{easy,medium,hard}_val.mat
dataset_type = 'WIDERFaceTxtDataset'
data_root = 'data/widerface/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadWIDERFaceAnnotations'),
    # SCRFD / TinaFace face crop: a random square of 0.3 ... 1.0 x short side
    dict(type='RandomSquareCrop', crop_choice=[0.3, 0.45, 0.6, 0.8, 1.0]),
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
# Test at the original image size (the usual WIDER FACE protocol) ...
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    # a no-op resize that records scale_factor 1 for mmdet's post-processing
    dict(type='Resize', scale_factor=1.0, keep_ratio=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
# ... or at VGA resolution (the long side at most 640), as SCRFD reports.
vga_test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(640, 640), keep_ratio=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

# 4 images per GPU: 32 on the 8 GPUs the schedule's lr 0.02 is set for
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='wider_face_split/wider_face_train_bbx_gt.txt',
        data_prefix=dict(img='WIDER_train/images/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        on_missing_image='error',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='wider_face_split/wider_face_val_bbx_gt.txt',
        data_prefix=dict(img='WIDER_val/images/'),
        test_mode=True,
        on_missing_image='error',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# The official Easy / Medium / Hard AP (MATLAB eval_tools algorithm).
val_evaluator = dict(
    type='WIDERFaceMetric', gt_dir=data_root + 'eval_tools/ground_truth/')
test_evaluator = val_evaluator

# For a WIDER FACE test-set submission, test on the image list and write the
# official layout (no AP without ground truth):
#   test_dataloader.dataset: ann_file='wider_face_split/wider_face_test_filelist.txt',
#                            data_prefix=dict(img='WIDER_test/images/')
#   test_evaluator = dict(type='WIDERFaceMetric', gt_dir=None, outfile_prefix='submission/')
