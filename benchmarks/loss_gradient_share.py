# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Which term of the regression-aware loss drives the head's last convs.

On one training batch of real WIDER FACE images and a trained checkpoint,
the four terms of :class:`HAMBoxHead`'s loss (stage-1 and compensated
classification, stage-1 and compensated box) are differentiated separately
with respect to the last classification conv (``retina_cls``) and the last
regression conv (``retina_reg``), under each normaliser
(``com_normalizer='separate'``: the paper read literally; ``'joint'``: the
shipped default). For each term it reports the gradient's norm and its
share of the conv's whole gradient, the projection
``<g_term, g_all> / |g_all|^2`` (the shares of the two terms of a conv add
up to 1), next to the share of the positives the term covers::

    python benchmarks/loss_gradient_share.py CHECKPOINT \\
        --data-root ../shared/data/widerface --json share.json

The checkpoint may come from any of the small models (HAMBox, baseline):
they share the network; the batch is the config's training pipeline with
``--seed``.
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'hambox',
                  'hambox_r18_fpn_tiny_widerface.py')
DEFAULT_DATA = osp.join(osp.dirname(ROOT), 'shared', 'data', 'widerface')
TERMS = ('cls_stage1', 'cls_com', 'bbox_stage1', 'bbox_com')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='a trained small model')
    parser.add_argument('--config', default=CONFIG,
                        help='a HAMBoxHead config (default: the tiny one)')
    parser.add_argument('--data-root', default=DEFAULT_DATA,
                        help='WIDER FACE in the official layout')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--batches', type=int, default=1,
                        help='batches to average over (default 1)')
    parser.add_argument('--json', help='write the numbers here')
    return parser.parse_args(argv)


def term_gradients(head, outs, targets, mode):
    """Each term's gradient on the last cls / reg conv under ``mode``.

    Returns:
        dict: per term its value, gradient (flattened) and the conv it is
        taken on; plus the counts N_norm and N_com.
    """
    import torch
    head.loss_cls.com_normalizer = mode
    head.bbox_com_normalizer = None
    captured = {}
    original = head._regression_aware_losses

    def capture(*args, **kwargs):
        result = original(*args, **kwargs)
        captured.update(result[2])
        return result

    head._regression_aware_losses = capture
    try:
        losses = head.loss_by_feat(*outs, *targets)
    finally:
        del head._regression_aware_losses
    convs = dict(cls=head.retina_cls, bbox=head.retina_reg)
    grads = {}
    for name in TERMS:
        conv = convs[name.split('_')[0]]
        params = [conv.weight, conv.bias]
        g = torch.autograd.grad(captured[name], params, retain_graph=True,
                                allow_unused=True)
        grads[name] = torch.cat([
            (x if x is not None else torch.zeros_like(p)).flatten()
            for x, p in zip(g, params)
        ])
    return grads, float(losses['num_pos_norm']), float(
        losses['num_pos_com'])


def shares(grads):
    """Norm and projection share of each term on its conv."""
    out = {}
    for conv in ('cls', 'bbox'):
        a, b = grads[f'{conv}_stage1'], grads[f'{conv}_com']
        total = a + b
        denom = float(total.dot(total)) or 1.
        for name, g in ((f'{conv}_stage1', a), (f'{conv}_com', b)):
            out[name] = dict(norm=float(g.norm()),
                             share=float(g.dot(total)) / denom)
    return out


def main(argv=None):
    args = parse_args(argv)
    os.environ['HAMBOX_TINY_DATA'] = osp.abspath(args.data_root)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import torch
    from mmdet.apis import init_detector
    from mmdet.models.utils import unpack_gt_instances
    from mmengine.config import Config
    from mmengine.runner import Runner, set_random_seed

    from hambox_mmdet.utils import register_all_modules
    register_all_modules()  # mmdet's and HAMBox's components
    torch.set_num_threads(1)
    cfg = Config.fromfile(args.config)
    model = init_detector(cfg, args.checkpoint, device='cpu')
    model.train()
    head = model.bbox_head
    set_random_seed(args.seed)
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader_cfg.dataset.update(on_missing_image='skip')
    loader = Runner.build_dataloader(loader_cfg, seed=args.seed)
    results = {m: {t: [] for t in TERMS} for m in ('separate', 'joint')}
    counts = []
    for i, batch in zip(range(args.batches), loader):
        data = model.data_preprocessor(batch, True)
        outs = head(model.extract_feat(data['inputs']))
        targets = unpack_gt_instances(data['data_samples'])
        targets = (targets[0], targets[2], targets[1])
        for mode in results:
            grads, n_norm, n_com = term_gradients(head, outs, targets, mode)
            for name, value in shares(grads).items():
                results[mode][name].append(value)
        counts.append((n_norm, n_com))
    n_norm = sum(c[0] for c in counts) / len(counts)
    n_com = sum(c[1] for c in counts) / len(counts)
    summary = {
        mode: {
            name: dict(
                norm=sum(v['norm'] for v in vals) / len(vals),
                share=sum(v['share'] for v in vals) / len(vals))
            for name, vals in terms.items()
        }
        for mode, terms in results.items()
    }
    print(f'{args.batches} batch(es) of {loader_cfg.batch_size} images; '
          f'per image: {n_norm:.2f} stage-1 positives, {n_com:.2f} '
          f'compensated anchors ({100 * n_com / max(n_norm + n_com, 1e-9):.1f}'
          ' % of the positives)')
    print('| normaliser | term | gradient norm | share of the conv\'s '
          'gradient |')
    print('|---|---|---:|---:|')
    for mode, terms in summary.items():
        for name, v in terms.items():
            print(f"| {mode} | {name} | {v['norm']:.4g} | "
                  f"{100 * v['share']:.1f} % |")
    out = dict(checkpoint=args.checkpoint, config=args.config,
               seed=args.seed, batches=args.batches,
               stage1_positives_per_img=n_norm,
               compensated_per_img=n_com, summary=summary)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main()
