# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""A WIDER FACE subset small enough to travel to the GPU machine.

The device tool carries at most 64 MiB with the checkout, of which the
wheels take about 44; real WIDER FACE (here 1,239 train and 243 val images,
153 MB) does not fit. This writes, under ``--dest``, the official layout
with a seeded random choice of the present images (whole files, unchanged),
``--val-share`` of the budget for val and the rest for train, the official
annotation files cut down to the chosen images (each image's lines copied
verbatim) and the evaluation ``.mat`` files, plus ``subset.json`` saying
what was taken::

    python benchmarks/gpu_suite_data.py --src ../shared/data/widerface \\
        --dest .device_data/widerface --max-mb 17

(``bash benchmarks/gpu_suite.sh --prepare-carry`` calls it with the room
that the wheels and the working tree leave.)
"""
import argparse
import json
import os
import os.path as osp
import random
import shutil
import sys

SPLITS = (('train', 'wider_face_split/wider_face_train_bbx_gt.txt'),
          ('val', 'wider_face_split/wider_face_val_bbx_gt.txt'))
GT_DIR = 'eval_tools/ground_truth'


def read_blocks(path: str) -> list:
    """[(image path, [its lines])] of an official ``*_bbx_gt.txt``."""
    with open(path) as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        name = lines[i].strip()
        if not name:
            i += 1
            continue
        try:
            count = int(lines[i + 1].split()[0])
        except (IndexError, ValueError):
            sys.exit(f'error: {path}, line {i + 2}: expected the face count '
                     f'of {name}')
        end = i + 2 + max(count, 1)  # N = 0 is followed by one line of zeros
        blocks.append((name, lines[i:end]))
        i = end
    return blocks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', required=True, help='WIDER FACE root')
    parser.add_argument('--dest', required=True, help='output root')
    parser.add_argument('--max-mb', type=float, required=True,
                        help='size budget of the whole subset, MiB')
    parser.add_argument('--val-share', type=float, default=0.4)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if osp.abspath(args.dest) == osp.abspath(args.src):
        sys.exit('error: --dest must differ from --src')
    if osp.exists(args.dest):
        shutil.rmtree(args.dest)
    os.makedirs(osp.join(args.dest, GT_DIR))
    budget = args.max_mb * 2**20
    for name in os.listdir(osp.join(args.src, GT_DIR)):
        shutil.copy(osp.join(args.src, GT_DIR, name),
                    osp.join(args.dest, GT_DIR, name))
        budget -= osp.getsize(osp.join(args.src, GT_DIR, name))
    budget -= 256 * 2**10  # the cut annotation files
    summary = dict(seed=args.seed, max_mb=args.max_mb)
    rng = random.Random(args.seed)
    shares = dict(val=args.val_share, train=1 - args.val_share)
    for split, ann in sorted(SPLITS, key=lambda s: s[0] != 'val'):
        blocks = read_blocks(osp.join(args.src, ann))
        img_dir = osp.join(args.src, f'WIDER_{split}', 'images')
        present = [b for b in blocks if osp.isfile(osp.join(img_dir, b[0]))]
        rng.shuffle(present)
        room = budget * shares[split] if split == 'val' else budget
        chosen, size = [], 0
        for name, lines in present:
            nbytes = osp.getsize(osp.join(img_dir, name))
            if size + nbytes > room:
                continue
            chosen.append((name, lines))
            size += nbytes
        budget -= size
        order = {name: i for i, (name, _) in enumerate(blocks)}
        chosen.sort(key=lambda b: order[b[0]])  # official order
        out_ann = osp.join(args.dest, ann)
        os.makedirs(osp.dirname(out_ann), exist_ok=True)
        with open(out_ann, 'w') as f:
            for _, lines in chosen:
                f.write('\n'.join(lines) + '\n')
        for name, _ in chosen:
            dst = osp.join(args.dest, f'WIDER_{split}', 'images', name)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            shutil.copy(osp.join(img_dir, name), dst)
        summary[split] = dict(present=len(present), chosen=len(chosen),
                              mib=round(size / 2**20, 2))
        print(f'{split}: {len(chosen)} of {len(present)} present images '
              f'({size / 2**20:.1f} MiB)')
    with open(osp.join(args.dest, 'subset.json'), 'w') as f:
        json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main()
