"""Numba kernels: pure array-in, array-out functions with no scikit-learn imports.

Every kernel is defined at module level with ``cache=True`` so that it is compiled once per
machine, never inside ``fit``. Estimators validate inputs and call these functions.
"""
