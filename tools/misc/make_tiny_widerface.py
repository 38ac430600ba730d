# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Write the small generated face set in the official WIDER FACE layout.

    python tools/misc/make_tiny_widerface.py [OUT_DIR]    # in the repository
    mim run hambox_mmdet make_tiny_widerface [OUT_DIR]    # installed package

The generator is :mod:`hambox_mmdet.testing.tiny_widerface` (its docstring
says what is written); this is its command line.
"""
import sys
from pathlib import Path

# run as a plain script from a checkout: import this checkout's package
_ROOT = Path(__file__).resolve().parents[2]
if (_ROOT / 'hambox_mmdet').is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from hambox_mmdet.testing.tiny_widerface import main  # noqa: E402

if __name__ == '__main__':
    main()
