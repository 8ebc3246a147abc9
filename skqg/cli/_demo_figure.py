"""The ``skqg demo`` figure: one panel per result of :func:`skqg.cli._demo.run_demo`."""

from pathlib import Path

import numpy as np

from skqg.stats import marchenko_pastur_cdf


def figure_format(path):
    """The image format of an output name: its extension, ``"png"`` without one.

    Raises
    ------
    ValueError
        If matplotlib cannot write that format (checked before any work).
    """
    from matplotlib.figure import Figure

    suffix = Path(path).suffix.lower().lstrip(".")
    supported = Figure().canvas.get_supported_filetypes()
    if suffix and suffix not in supported:
        raise ValueError(
            f"--out {str(path)!r}: matplotlib cannot write '.{suffix}' figures; use one of "
            f"{', '.join(sorted(supported))}."
        )
    return suffix or "png"


def draw_demo_figure(panels, path, image_format=None):
    """Draw the six-panel demo figure and save it to ``path`` in ``image_format``.

    Parameters
    ----------
    panels : dict
        The second value returned by :func:`skqg.cli._demo.run_demo`.
    path : str, path-like or binary file
        Output, e.g. ``"skqg-demo.png"``; written under exactly that name.
    image_format : str, optional
        ``"png"``, ``"pdf"``...; by default :func:`figure_format` of ``path``.
    """
    import matplotlib

    matplotlib.use("agg")  # files only: no display is needed or opened
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 9), layout="constrained")
    _receptive_fields(axes[0, 0], panels["ising"])
    _temperature_flow(axes[0, 1], panels["ising"])
    _spectrum(axes[0, 2], panels["wishart"])
    _grid_deformation(axes[1, 0], panels["transport"])
    _density(axes[1, 1], panels["transport"], "log_density", "MongeAmpereTransport density")
    _density(axes[1, 2], panels["transport"], "true_log_density", "true banana density")
    fig.suptitle("skqg demo: RBM coarse-graining, the Wishart cone, Monge-Ampere transport")
    if image_format is None:
        image_format = figure_format(path)
    fig.savefig(path, dpi=110, format=image_format)
    plt.close(fig)


def _receptive_fields(ax, ising):
    L, fields = ising["lattice"], ising["fields"]
    # A 2 x 4 montage of the most local fields, one pixel of padding between them.
    montage = np.full((2 * L + 1, 4 * L + 3), np.nan)
    for k, field in enumerate(fields[:8]):
        r, c = divmod(k, 4)
        montage[r * (L + 1) : r * (L + 1) + L, c * (L + 1) : c * (L + 1) + L] = field.reshape(L, L)
    limit = np.nanmax(np.abs(montage))
    ax.imshow(montage, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_title(f"RBM receptive fields on the {L}x{L} lattice\n(the 8 most local units)")
    ax.set_axis_off()


def _temperature_flow(ax, ising):
    for start, temperatures in ising["flows"].items():
        ax.plot(np.arange(len(temperatures)), temperatures, "o-", label=f"from T = {start}")
    ax.axhline(ising["lattice_t_c"], color="k", ls="--", lw=1, label="T_c (infinite lattice)")
    ax.set_xlabel("RBM flow step v -> h -> v")
    ax.set_ylabel("temperature read off the energy")
    ax.set_title("RBM flow of the temperature")
    ax.legend()


def _spectrum(ax, wishart):
    ratio = wishart["ratio"]
    # Empirical CDFs against the law's: the KS distance is their largest vertical gap.
    for key, label in (("eigenvalues", "fitted model"), ("oracle", "true covariance")):
        values = np.sort(wishart[key])
        ks = wishart["ks" if key == "eigenvalues" else "oracle_ks"]
        ax.step(
            values,
            np.arange(1, len(values) + 1) / len(values),
            where="post",
            label=f"whitened by the {label} (KS {ks:.3f})",
        )
    low, high = (1.0 - np.sqrt(ratio)) ** 2, (1.0 + np.sqrt(ratio)) ** 2
    x = np.linspace(0.8 * low, 1.1 * max(high, wishart["eigenvalues"].max()), 400)
    ax.plot(x, marchenko_pastur_cdf(x, ratio), "k", lw=1.5, label="Marchenko-Pastur")
    ax.set_xlabel("eigenvalue of the whitened held-out covariance")
    ax.set_ylabel("cumulative fraction")
    ax.set_title(f"Wishart model: held-out spectrum (p/n = {ratio:.3g})")
    ax.legend(loc="lower right")


def _grid_deformation(ax, transport):
    X = transport["X"]
    ax.scatter(X[:, 0], X[:, 1], s=2, color="0.6", alpha=0.5)
    for line in transport["lines"]:
        ax.plot(line[:, 0], line[:, 1], color="C0", lw=0.8)
    xs, ys = transport["grid"]
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_title("T^-1 of the reference's coordinate grid")


def _density(ax, transport, key, title):
    xs, ys = transport["grid"]
    density = np.exp(transport[key])
    ax.contourf(xs, ys, density, levels=12, cmap="viridis")
    ax.set_title(title)
