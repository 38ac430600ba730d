# A HAMBox model trained on WIDER FACE (hambox_r50_fpn_widerface.py), tested
# on FDDB as face detection papers do (../_base_/datasets/fddb.py: all ten
# folds at the original image size, the official FDDB protocol). Usage:
#   mim test hambox_mmdet hambox_r50_fpn_fddb_test.py --checkpoint CKPT
_base_ = [
    '../_base_/models/hambox_r50_fpn_face.py',
    '../_base_/datasets/fddb.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation'],
    allow_failed_imports=False)

# low score threshold: the ROC sweeps every score
model = dict(test_cfg=dict(score_thr=0.02, max_per_img=1000))
