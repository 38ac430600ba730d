# hambox_r50_fpn_widerface.py tested at VGA resolution (long side <= 640), the
# setting of the SCRFD / insightface comparison table.
_base_ = './hambox_r50_fpn_widerface.py'

test_dataloader = dict(dataset=dict(pipeline={{_base_.vga_test_pipeline}}))
val_dataloader = test_dataloader
