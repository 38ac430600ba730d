# Testing at the original image size, the protocol of WIDER FACE, FDDB, AFW
# and PASCAL Face: the pipeline, loader and loop the test-set bases
# (fddb.py, afw.py) share; each adds its dataset's type, files and metric.
backend_args = None
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    # a no-op resize that records scale_factor 1 for mmdet's post-processing
    dict(type='Resize', scale_factor=1.0, keep_ratio=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        test_mode=True, on_missing_image='error', pipeline=test_pipeline))
test_cfg = dict(type='TestLoop')
