# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Helpers of the deployment tests (a uniquely named module: test files
import it; ``conftest`` is a name every test folder shares)."""
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'
R50 = REPO / 'configs' / 'hambox' / 'hambox_r50_fpn_widerface.py'


def make_checkpoint(config, path, seed=0, cls_std=0.05, cls_bias=-2.0,
                    reg_std=0.05, cfg_options=None, calibrate=False):
    """Weights of ``config`` saved as mmengine does, the head perturbed so
    that scores spread over (0, 1) and boxes vary in place and shape (an
    initialised head scores every anchor 0.01, below the 0.02 threshold).

    With ``calibrate``, ``cls_std`` and ``reg_std`` are the standard
    deviations of the logits and deltas on a test picture instead of the
    last layers' weights (for heads without normalisation, whose features
    are small)."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config

    import hambox_mmdet  # noqa: F401
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.init_cfg = None
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    head = model.bbox_head
    with torch.no_grad():
        head.retina_cls.weight.normal_(0, cls_std)
        head.retina_cls.bias.fill_(cls_bias)
        head.retina_reg.weight.normal_(0, reg_std)
        if calibrate:
            head.retina_cls.bias.zero_()
            model.eval()
            img = make_image(128, 160, seed)
            inputs = model.data_preprocessor(dict(inputs=[
                torch.from_numpy(img.transpose(2, 0, 1).copy())
            ]), False)['inputs']
            cls, reg = head(model.extract_feat(inputs))
            cls_sd = torch.cat([c.flatten() for c in cls]).std()
            reg_sd = torch.cat([r.flatten() for r in reg]).std()
            head.retina_cls.weight.mul_(cls_std / cls_sd)
            head.retina_reg.weight.mul_(reg_std / reg_sd)
            head.retina_reg.bias.zero_()
            head.retina_cls.bias.fill_(cls_bias)
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=dict(classes=('face', )))), str(path))
    return str(path)


def make_image(h, w, seed):
    """A BGR uint8 picture: smooth background, noise and bright ellipses."""
    import cv2
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)),
                    np.full_like(xx, 90)], -1).astype(np.uint8)
    img = cv2.add(img, rng.integers(0, 40, img.shape, dtype=np.uint8))
    for _ in range(6):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(4, max(5, w // 5))),
                int(rng.integers(4, max(5, h // 5))))
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.ellipse(img, c, axes, 0, 0, 360, color, -1)
    return img


# (h, w): landscape VGA, odd sizes, portrait, a thin strip, a small square
SIZES = [(480, 640), (333, 517), (400, 224), (97, 251), (128, 128)]


def torch_detections(model, img):
    """(N, 5) x1 y1 x2 y2 score of ``mmdet.apis.inference_detector``."""
    from mmdet.apis import inference_detector
    pred = inference_detector(model, img).pred_instances
    return np.concatenate(
        [pred.bboxes.numpy(), pred.scores.numpy()[:, None]], 1)
