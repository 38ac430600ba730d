# SGD, linear warm-up then cosine decay, 100 epochs of WIDER FACE train.
# lr 0.02 is for a total batch of 32: 8 GPUs x 4 images, the batch_size of
# ../datasets/wider_face.py. With another total batch size, add
# --auto-scale-lr (lr x total / base_batch_size) or scale it yourself.
max_epochs = 100
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0002,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0005),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=32)
