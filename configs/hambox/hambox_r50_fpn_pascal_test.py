# Test a HAMBox R50 model trained on WIDER FACE on PASCAL Face, as face
# papers do (train on WIDER FACE, test on the others), with the annotations
# and the protocol of the Mathias et al. (ECCV 2014) toolkit; everything but
# the set is the AFW test config's:
#   data/face_eval/
#     annotations/Annotations_Face_PASCALLayout_large_fixed.mat
#     PASCAL/<imgname>   (the 851 PASCAL VOC 2012 JPEGImages named there)
#   mim test hambox_mmdet hambox_r50_fpn_pascal_test.py --checkpoint CKPT
# prints pascal/ap_calibrated (what papers report) and pascal/ap (without).
_base_ = './hambox_r50_fpn_afw_test.py'

face_eval_root = 'data/face_eval/'  # as in the AFW config
pascal_ann_file = 'annotations/Annotations_Face_PASCALLayout_large_fixed.mat'

test_dataloader = dict(
    dataset=dict(ann_file=pascal_ann_file, data_prefix=dict(img='PASCAL/')))
test_evaluator = dict(
    ann_file=face_eval_root + pascal_ann_file, prefix='pascal')
