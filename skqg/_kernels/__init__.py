"""Numba kernels: pure array-in, array-out functions with no scikit-learn imports.

Every kernel is defined at module level with ``cache=True`` so that it is compiled once per
machine, never inside ``fit``. The estimators validate inputs; their families' private modules
call these functions, imported one way: ``from skqg._kernels import gibbs_sampling``. Which
kernels run their parallel twin is decided in one place, :mod:`skqg._kernels.parallel_policy`.
"""
