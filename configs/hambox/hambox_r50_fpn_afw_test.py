# Test a HAMBox R50 model trained on WIDER FACE (hambox_r50_fpn_widerface.py)
# on AFW, as face papers do (train on WIDER FACE, test on the others), with
# the toolkit's annotations and protocol (../_base_/datasets/afw.py):
#   mim test hambox_mmdet hambox_r50_fpn_afw_test.py --checkpoint CKPT
# prints afw/ap_calibrated (what papers report) and afw/ap (no calibration).
_base_ = [
    '../_base_/models/hambox_r50_fpn_face.py',
    '../_base_/datasets/afw.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation'],
    allow_failed_imports=False)
