# PASCAL Face as a test set, with the annotations and the protocol of the
# Mathias et al. (ECCV 2014) toolkit; everything but the set is AFW's:
#   data/face_eval/
#     annotations/Annotations_Face_PASCALLayout_large_fixed.mat
#     PASCAL/<imgname>   (the 851 PASCAL VOC 2012 JPEGImages named there)
# The metric logs pascal/ap_calibrated (what papers report) and pascal/ap.
_base_ = './afw.py'

pascal_ann_file = 'annotations/Annotations_Face_PASCALLayout_large_fixed.mat'

test_dataloader = dict(
    dataset=dict(ann_file=pascal_ann_file, data_prefix=dict(img='PASCAL/')))
test_evaluator = dict(
    ann_file='data/face_eval/' + pascal_ann_file, prefix='pascal')
