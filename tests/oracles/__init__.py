# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Plain-loop reference implementations (oracles) the tests compare the
package's vectorised evaluation with; importable as ``oracles`` through
pytest's ``pythonpath = tests`` (the benchmarks import them too)."""
