"""Warnings attributed to the user's code, whatever the depth of the call inside skqg."""

import os
import sys
import warnings

import joblib
import sklearn

# Frames in these directories are library code (joblib: cross_val_score's loop): a warning
# points past them.
_LIBRARY_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sys.modules["skqg"], sklearn, joblib)
)


def warn_caller(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first frame outside skqg, scikit-learn
    and joblib (the user's ``fit``, or their ``cross_val_score``)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
