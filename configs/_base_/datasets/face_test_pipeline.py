# Testing at the original image size, the protocol of WIDER FACE, FDDB, AFW
# and PASCAL Face: the pipeline the test-set bases (fddb.py, afw.py) share.
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
test_cfg = dict(type='TestLoop')
