# Test a HAMBox R50 model trained on WIDER FACE (hambox_r50_fpn_widerface.py)
# on PASCAL Face, as face papers do, with the toolkit's annotations and
# protocol (../_base_/datasets/pascal_face.py):
#   mim test hambox_mmdet hambox_r50_fpn_pascal_test.py --checkpoint CKPT
# prints pascal/ap_calibrated (what papers report) and pascal/ap (without).
_base_ = [
    '../_base_/models/hambox_r50_fpn_face.py',
    '../_base_/datasets/pascal_face.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation'],
    allow_failed_imports=False)
