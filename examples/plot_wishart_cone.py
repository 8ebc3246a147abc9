r"""
==========================================================
The Wishart cone: Bartlett, Marchenko–Pastur, Monge–Ampère
==========================================================

A latent Gaussian model :math:`x = W z`, :math:`z \sim \mathcal N(0, I_\nu)`, has covariance
:math:`\Sigma = W W^\top = \sum_{j=1}^{\nu} w_j w_j^\top`, a sum of outer products of the
columns :math:`w_j` of :math:`W`. When the columns are independent :math:`\mathcal N(0, C/\nu)`
vectors, :math:`\Sigma` follows the Wishart law :math:`W_p(\nu, C/\nu)`, with mean
:math:`E[\Sigma] = C`; for :math:`\nu \ge p` it lies in the open cone
:math:`\mathcal S^p_{++}` of symmetric positive-definite matrices. This example checks the
three facts about that cone that skqg builds on:

1. **The law.** By Bartlett's decomposition, with :math:`L L^\top = C/\nu` and
   :math:`T = \operatorname{chol}(L^{-1} \Sigma L^{-\top})`, the entries of :math:`T` are
   independent, :math:`T_{ii}^2 \sim \chi^2_{\nu - i}` (:math:`i = 0, \dots, p - 1`) and
   :math:`T_{ij} \sim \mathcal N(0, 1)` below the diagonal. :func:`skqg.stats.wishart_gof`
   tests exactly this. For large :math:`p` and :math:`\nu` with :math:`p/\nu \to \gamma`, the
   eigenvalues of :math:`\Sigma` (for :math:`C = I`) follow the Marchenko–Pastur law on
   :math:`[(1 - \sqrt\gamma)^2, (1 + \sqrt\gamma)^2]`.
2. **The Monge–Ampère equation.** The log-det barrier :math:`\Phi(\Sigma) = -\log\det\Sigma`
   has Hessian :math:`D^2\Phi(\Sigma)[H, K] = \operatorname{tr}(\Sigma^{-1} H \Sigma^{-1} K)`;
   written as an :math:`m \times m` matrix, :math:`m = p(p+1)/2`, in the coordinates
   :math:`\sigma_{ii}, \sigma_{ij}\ (i < j)`, it satisfies

   .. math::

      \log\det D^2\Phi(\Sigma) = \tfrac12 p(p-1)\log 2 + (p + 1)\,\Phi(\Sigma),

   so :math:`\det D^2\Phi = 2^{p(p-1)/2} e^{(p+1)\Phi}`: the barrier solves a Monge–Ampère
   equation on the cone.
3. **Self-duality.** The dual cone
   :math:`\{Y : \operatorname{tr}(XY) \ge 0\ \forall X \succ 0\}` is the closed cone itself,
   and the Legendre–Fenchel conjugate of :math:`\Phi` is :math:`\Phi^*(-Y) = \Phi(Y) - p`.

Each fact is measured, not assumed, and the goodness-of-fit tests are run on a negative control
that has the same mean but is not Wishart.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1`` to run this script on fewer and smaller
# matrices; run on its own, it uses larger ones.

import os

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import chdtr, ndtr
from scipy.stats import chi2, norm

from skqg import WishartCovarianceModel, cone, stats

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
N_MATRICES = 300 if QUICK else 1000  # population size for the goodness-of-fit tests
P_SPECTRUM, NU_SPECTRUM = (100, 400) if QUICK else (400, 1600)  # one large matrix
N_NULL_SPECTRA = 20 if QUICK else 50  # null replicates calibrating the spectral distance
rng = np.random.RandomState(0)

# %%
# Σ = WWᵀ with Gaussian columns is Wishart
# ----------------------------------------
# We build the matrices exactly as a latent model does: draw :math:`W` (:math:`p \times \nu`)
# with independent :math:`\mathcal N(0, C/\nu)` columns and form :math:`W W^\top`. The mean
# :math:`C` is an AR(1) correlation matrix. As a **negative control** the columns are
# multivariate Student-*t* vectors with 5 degrees of freedom, scaled to the same covariance
# :math:`C/\nu`: :math:`E[\Sigma] = C` and the rank are unchanged, but each column now has its
# own random length, which the Wishart law does not allow.

p, nu = 5, 12
index = np.arange(p)
C = 0.5 ** np.abs(index[:, None] - index[None, :])
L_C = np.linalg.cholesky(C)

Z = rng.standard_normal((N_MATRICES, p, nu))
W_gauss = L_C @ Z / np.sqrt(nu)
S_gauss = W_gauss @ W_gauss.transpose(0, 2, 1)

t_dof = 5
lengths = np.sqrt(rng.chisquare(t_dof, size=(N_MATRICES, 1, nu)) / t_dof)
W_t = W_gauss / lengths * np.sqrt((t_dof - 2) / t_dof)  # Var = C / nu, as for the Gaussian
S_t = W_t @ W_t.transpose(0, 2, 1)

for name, S in (("Gaussian columns", S_gauss), ("Student-t columns", S_t)):
    error = np.linalg.norm(S.mean(axis=0) - C) / np.linalg.norm(C)
    print(f"{name:20s}: relative error of the mean to C = {error:.3f}")

# %%
# With :math:`\nu` and :math:`C` given the null hypothesis is simple and the p-value is exact
# (the Kolmogorov distribution of the pooled probability-integral transforms). With both
# estimated, :func:`~skqg.stats.wishart_gof` calibrates the p-value by a parametric bootstrap
# that refits each simulated population. :class:`~skqg.WishartCovarianceModel` fitted on the
# stack estimates the same :math:`\nu` by maximum likelihood.

ALPHA = 0.01  # level at which the verdicts below are read
print(f"{N_MATRICES} matrices {p}x{p}, nu = {nu}")
print(f"{'columns':20s} {'test':22s} {'KS stat':>8s} {'p-value':>9s} {'df':>7s}  verdict")
results, rejected, fitted_df = {}, {}, {}
for name, S in (("Gaussian", S_gauss), ("Student-t (control)", S_t)):
    simple = stats.wishart_gof(S, df=nu, covariance=C)
    composite = stats.wishart_gof(S, n_bootstrap=199, random_state=0)
    results[name] = simple
    rejected[name] = (simple.pvalue < ALPHA, composite.pvalue < ALPHA)
    for label, test in (("nu, C given (exact)", simple), ("nu, C fitted (boot.)", composite)):
        verdict = "rejected" if test.pvalue < ALPHA else "not rejected"
        print(
            f"{name:20s} {label:22s} {test.statistic:8.4f} {test.pvalue:9.3g} "
            f"{test.df:7.2f}  {verdict} at {ALPHA:g}"
        )
    fitted_df[name] = WishartCovarianceModel().fit(S).df_
    print(f"{'':20s} WishartCovarianceModel().fit(S).df_ = {fitted_df[name]:.2f}")
print(
    f"Gaussian population rejected by either test: {any(rejected['Gaussian'])}; "
    f"control rejected by both: {all(rejected['Student-t (control)'])}; "
    f"control's fitted df / nu = {fitted_df['Student-t (control)'] / nu:.2f}"
)

# %%
# The Gaussian population is Wishart by construction, so its p-values are uniform draws and
# a rejection at the 1 % level would be a one-in-a-hundred event; its fitted degrees of
# freedom estimate the number of columns, :math:`\nu = 12`. The control has the same mean, so
# only the shape of the law can tell it apart: the last printed line gives the verdicts, and
# its fitted :math:`\nu`. Columns of random length make the matrices more spread out around
# their mean than Wishart matrices with :math:`\nu` columns, which the maximum-likelihood fit
# can only describe with fewer degrees of freedom.
#
# What the test sees
# ~~~~~~~~~~~~~~~~~~
# The statistic is the largest gap between the empirical distribution of the pooled
# transforms, :math:`u = F_{\chi^2_{\nu-i}}(T_{ii}^2)` on the diagonal and
# :math:`u = \Phi(T_{ij})` below it, and the uniform one. We recompute the transforms here to
# draw that gap; its maximum matches the statistic returned above.


def bartlett_transforms(S, df, covariance):
    """Bartlett factors and their pooled probability-integral transforms (uniform under H0)."""
    inverse_lower = solve_triangular(np.linalg.cholesky(covariance / df), np.eye(p), lower=True)
    T = inverse_lower @ np.linalg.cholesky(S)  # Cholesky factor of L^-1 S L^-T
    diagonal = np.arange(p)
    u_diagonal = chdtr(df - diagonal, T[:, diagonal, diagonal] ** 2)
    rows, cols = np.tril_indices(p, -1)
    return T, np.sort(np.concatenate([u_diagonal.ravel(), ndtr(T[:, rows, cols]).ravel()]))


fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
grid = np.linspace(0, 40, 300)
tail_low, tail_high = chi2.ppf([0.01, 0.99], nu)
print(
    f"{'':20s} {'KS gap':>7s} {'gof stat':>9s} {'T00^2 < q01':>12s} {'T00^2 > q99':>12s} "
    f"{'kurt(T10)':>10s}"
)
for (name, S), color in zip(
    (("Gaussian", S_gauss), ("Student-t (control)", S_t)), ("C0", "C3"), strict=True
):
    T, u = bartlett_transforms(S, nu, C)
    ranks = np.arange(1, u.size + 1) / u.size
    gap = np.maximum(ranks - u, u - (ranks - 1 / u.size))
    t00, t10 = T[:, 0, 0] ** 2, T[:, 1, 0]
    excess_kurtosis = np.mean(t10**4) / np.mean(t10**2) ** 2 - 3
    print(
        f"{name:20s} {gap.max():7.4f} {results[name].statistic:9.4f} "
        f"{np.mean(t00 < tail_low):12.3f} {np.mean(t00 > tail_high):12.3f} "
        f"{excess_kurtosis:10.2f}"
    )
    axes[0].hist(t00, bins=40, range=(0, 40), density=True, alpha=0.5, color=color, label=name)
    axes[1].hist(t10, bins=40, range=(-4, 4), density=True, alpha=0.5, color=color, label=name)
    axes[2].plot(u, ranks - u, color=color, label=f"{name}, KS = {gap.max():.3f}")
axes[0].plot(grid, chi2.pdf(grid, nu), "k", label=rf"$\chi^2_{{{nu}}}$")
axes[0].set_xlabel(r"$T_{00}^2$")
x = np.linspace(-4, 4, 200)
axes[1].plot(x, norm.pdf(x), "k", label=r"$\mathcal{N}(0, 1)$")
axes[1].set_xlabel(r"$T_{10}$")
axes[2].axhline(0, color="k", lw=0.8)
axes[2].set_xlabel("probability-integral transform u")
axes[2].set_ylabel("ECDF(u) − u")
for ax in axes:
    ax.legend(fontsize=8)
fig.suptitle("Bartlett factors of Σ = WWᵀ against their Wishart laws")
plt.show()

# %%
# Under the Wishart law 1 % of the :math:`T_{00}^2` fall below the :math:`\chi^2_\nu`
# 1 % quantile and 1 % above the 99 % one, and :math:`T_{10}` has excess kurtosis 0. The table
# gives these numbers for both populations: random column lengths put more mass in both tails
# of :math:`T_{00}^2` and make :math:`T_{10}` heavy-tailed, and that bends the empirical
# distribution of the transforms away from the uniform one.
#
# The spectrum: Marchenko–Pastur
# ------------------------------
# One large :math:`\Sigma = W W^\top` with :math:`C = I` has eigenvalues spread by the
# Marchenko–Pastur law of ratio :math:`\gamma = p/\nu`, not concentrated at 1. Eigenvalues of
# one matrix are strongly dependent, so :func:`~skqg.stats.marchenko_pastur_test` gives the
# Kolmogorov–Smirnov distance without a p-value; we calibrate it with independent Wishart
# draws from :func:`~skqg.stats.wishart_sample`.

ratio = P_SPECTRUM / NU_SPECTRUM
Z = rng.standard_normal((P_SPECTRUM, NU_SPECTRUM))
spectra = {"Gaussian": np.linalg.eigvalsh(Z @ Z.T / NU_SPECTRUM)}
lengths = np.sqrt(rng.chisquare(t_dof, size=NU_SPECTRUM) / t_dof)
Z_t = Z / lengths * np.sqrt((t_dof - 2) / t_dof)
spectra["Student-t (control)"] = np.linalg.eigvalsh(Z_t @ Z_t.T / NU_SPECTRUM)

null = stats.wishart_sample(
    N_NULL_SPECTRA, NU_SPECTRUM, np.eye(P_SPECTRUM) / NU_SPECTRUM, random_state=1
)
null_distances = np.array(
    [stats.marchenko_pastur_test(np.linalg.eigvalsh(S), ratio).ks_distance for S in null]
)
print(f"p = {P_SPECTRUM}, nu = {NU_SPECTRUM}, ratio = {ratio:g}")
print(
    f"null KS distances over {N_NULL_SPECTRA} Wishart draws: mean {null_distances.mean():.4f}, "
    f"max {null_distances.max():.4f}"
)
comparisons = {}
for name, eigenvalues in spectra.items():
    comparisons[name] = result = stats.marchenko_pastur_test(eigenvalues, ratio)
    print(
        f"{name:20s}: KS distance {result.ks_distance:.4f}, "
        f"{np.mean(null_distances >= result.ks_distance):.2f} of null draws at least as far; "
        f"edges [{result.lower_edge:.3f}, {result.upper_edge:.3f}], "
        f"fraction outside {result.fraction_outside:.3f}, "
        f"extremes [{eigenvalues.min():.3f}, {eigenvalues.max():.3f}]"
    )

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
upper = max(spectra["Student-t (control)"].max(), comparisons["Gaussian"].upper_edge) * 1.05
x = np.linspace(0, upper, 600)
for (name, eigenvalues), color in zip(spectra.items(), ("C0", "C3"), strict=True):
    ax.hist(
        eigenvalues,
        bins=50,
        range=(0, upper),
        density=True,
        alpha=0.5,
        color=color,
        label=f"{name}, KS = {comparisons[name].ks_distance:.3f}",
    )
ax.plot(x, stats.marchenko_pastur_pdf(x, ratio), "k", label=f"Marchenko–Pastur, γ = {ratio:g}")
ax.set_xlabel("eigenvalue of WWᵀ")
ax.set_ylabel("density")
ax.set_title(f"Spectrum of one {P_SPECTRUM}×{P_SPECTRUM} matrix WWᵀ, ν = {NU_SPECTRUM}")
ax.legend()
plt.show()

# %%
# The printed fractions place each distance within the null draws: a fraction near 0 means
# farther from the law than any Wishart matrix of this size. The control has the same
# expected trace, so the same mean eigenvalue; its fraction of eigenvalues outside the edges
# and its extremes show where its spectrum departs from Marchenko–Pastur.
#
# The Monge–Ampère identity of the barrier
# ----------------------------------------
# :func:`skqg.cone.barrier_hessian` writes :math:`D^2\Phi(\Sigma)` as an :math:`m \times m`
# matrix; we take its log-determinant with :func:`numpy.linalg.slogdet` and compare with the
# closed form :math:`\tfrac12 p(p-1)\log 2 + (p+1)\Phi(\Sigma)` on Wishart draws of several
# sizes. :func:`skqg.cone.monge_ampere_residual` returns the same difference (in
# :math:`\sqrt2`-weighted coordinates the constant is 0).

sizes = (2, 3, 4, 5, 6) if QUICK else (2, 3, 4, 5, 6, 8, 10)
lhs, rhs, ma_sizes, ma_conditions = [], [], [], []
print(
    f"{'p':>3s} {'m':>4s} {'max |slogdet - closed form|':>28s} {'max |residual|':>15s} "
    f"{'weighted':>10s} {'max cond':>9s}"
)
for size in sizes:
    S = stats.wishart_sample(50, size + 2, np.eye(size) / (size + 2), random_state=size)
    _, logdet = np.linalg.slogdet(cone.barrier_hessian(S))
    closed = 0.5 * size * (size - 1) * np.log(2.0) + (size + 1) * cone.barrier(S)
    residual = cone.monge_ampere_residual(S)
    weighted = cone.monge_ampere_residual(S, weighted=True)
    print(
        f"{size:3d} {size * (size + 1) // 2:4d} {np.abs(logdet - closed).max():28.2e} "
        f"{np.abs(residual).max():15.2e} {np.abs(weighted).max():10.2e} "
        f"{stats.spd_margins(S).condition_number.max():9.3g}"
    )
    lhs.append(logdet)
    rhs.append(closed)
    ma_sizes.append(np.full(len(S), size))
    ma_conditions.append(stats.spd_margins(S).condition_number)
lhs, rhs, ma_sizes = np.concatenate(lhs), np.concatenate(rhs), np.concatenate(ma_sizes)
ma_conditions = np.concatenate(ma_conditions)
eps = np.finfo(np.float64).eps
rounding = eps * ma_sizes * (ma_sizes + 1) / 2 * ma_conditions**2  # m kappa^2 eps
print(
    f"all {lhs.size} draws: max |difference| = {np.abs(lhs - rhs).max():.1e}, "
    f"max |difference| / (m cond^2 eps) = {np.max(np.abs(lhs - rhs) / rounding):.3f}"
)

# %%
# The Hessian's eigenvalues are the products :math:`1/(\lambda_i \lambda_j)` of inverse
# eigenvalues of :math:`\Sigma`, so its condition number is :math:`\kappa(\Sigma)^2`, and a
# rounding error of the computed log-determinant of up to about
# :math:`m\,\kappa(\Sigma)^2\,\epsilon_{\mathrm{mach}}` is expected. The last line compares
# the differences with that scale: a ratio below 1 means the identity holds to rounding.
#
# Near the boundary of the cone the barrier blows up, and the log-determinant of its Hessian
# with it, :math:`p + 1` times as fast. We slide the smallest eigenvalue of one matrix towards
# 0, up to a condition number of :math:`10^7`, and measure the residual against the same
# scale.

size = 4
S0 = stats.wishart_sample(1, 10, np.eye(size) / 10, random_state=0)[0]
values, vectors = np.linalg.eigh(S0)
# From the smallest eigenvalue down to 1e-7 of the largest: condition numbers up to 1e7.
floors = np.geomspace(values[0], 1e-7 * values[-1], 10 if QUICK else 20)
path = np.array([(vectors * np.r_[f, values[1:]]) @ vectors.T for f in floors])
path = (path + path.transpose(0, 2, 1)) / 2
path_barrier = cone.barrier(path)
path_residual = cone.monge_ampere_residual(path)
path_condition = stats.spd_margins(path).condition_number
path_rounding = eps * size * (size + 1) / 2 * path_condition**2
print(
    f"{'smallest eig':>13s} {'cond':>10s} {'barrier':>9s} {'residual':>10s} {'m cond^2 eps':>13s}"
)
for floor, cond, phi, res, bound in zip(
    floors, path_condition, path_barrier, path_residual, path_rounding, strict=True
):
    print(f"{floor:13.2e} {cond:10.2e} {phi:9.3f} {res:10.1e} {bound:13.1e}")
print(
    f"max |residual| / (m cond^2 eps) along the path: "
    f"{np.max(np.abs(path_residual) / path_rounding):.3f}"
)

fig, (ax_ma, ax_res) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
scatter = ax_ma.scatter(rhs, lhs, c=ma_sizes, s=10, cmap="viridis")
line = np.array([min(rhs.min(), lhs.min()), max(rhs.max(), lhs.max())])
ax_ma.plot(line, line, "k", lw=0.8)
ax_ma.set_xlabel(r"$\frac{1}{2} p(p-1)\log 2 + (p + 1)\,\Phi(\Sigma)$")
ax_ma.set_ylabel(r"$\log\det D^2\Phi(\Sigma)$ (numerical)")
ax_ma.set_title("Monge–Ampère identity on Wishart draws")
fig.colorbar(scatter, ax=ax_ma, label="p")
ax_res.loglog(path_condition, np.abs(path_residual) + 1e-17, "o-", label="|residual|")
ax_res.loglog(
    path_condition,
    path_rounding,
    "k:",
    label=r"$m\,\kappa(\Sigma)^2\,\epsilon_{\mathrm{mach}}$",
)
ax_res.set_xlabel("condition number of Σ (towards the boundary →)")
ax_res.set_ylabel("|Monge–Ampère residual|")
ax_res.legend()
ax_res.set_title(rf"$\Phi$ from {path_barrier[0]:.1f} to {path_barrier[-1]:.1f} along the path")
plt.show()

# %%
# Self-duality
# ------------
# :func:`skqg.cone.self_duality_check` measures the three duality facts on random probes:
# cosines between SPD pairs are positive (the cone lies in its dual); every symmetric matrix
# with a negative eigenvalue has a negative cosine with some SPD matrix (nothing else is in
# the dual); and the conjugate barrier, computed by Newton's method, equals
# :math:`\Phi(Y) - p` with maximiser :math:`Y^{-1} = -\nabla\Phi(Y)`.

print(
    f"{'p':>3s} {'min cos in':>11s} {'max cos sep':>12s} {'conj. err':>10s} "
    f"{'argmax err':>11s} {'min FY gap':>11s}"
)
checks = []
for size in (2, 3, 5, 10, 20):
    r = cone.self_duality_check(size, n_probes=100 if QUICK else 500, random_state=0)
    checks.append(r)
    print(
        f"{size:3d} {r.min_cosine_inside:11.3f} {r.max_cosine_separating:12.3f} "
        f"{r.conjugate_error:10.1e} {r.maximiser_error:11.1e} {r.min_fenchel_young_gap:11.3f}"
    )
print(
    f"inside cosines all > 0: {all(r.min_cosine_inside > 0 for r in checks)}; "
    f"separating cosines all < 0: {all(r.max_cosine_separating < 0 for r in checks)}; "
    f"Fenchel-Young gaps all >= 0: {all(r.min_fenchel_young_gap >= 0 for r in checks)}; "
    f"worst conjugate / maximiser error: {max(r.conjugate_error for r in checks):.1e} / "
    f"{max(r.maximiser_error for r in checks):.1e}"
)

# %%
# The last line sums up the three checks over all sizes. When they hold, the cone of
# covariances is its own dual, and the duality map :math:`\Sigma \mapsto \Sigma^{-1}`
# (covariance to precision) is minus the gradient of the barrier, the same potential that
# solves the Monge–Ampère equation above.
