# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Helpers shared by the tests, importable as ``helpers`` through pytest's
``pythonpath = tests`` (pytest.ini); no test edits the import path."""
