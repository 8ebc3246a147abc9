"""Peak memory of one output method over many rows, run in its own process.

``python tests/_memory_probe.py CONFIG METHOD N_ROWS`` fits the configuration ``CONFIG`` (see
``CONFIGS``) on a small sample, warms the method up on a few rows (kernels loaded), resets the
process's peak resident set size (``/proc/self/clear_refs``), calls the method on ``N_ROWS``
rows and prints one JSON line: the peak growth over the resident size before the call, and the
sizes of the input and the output, in MB. Linux only.
"""

import json
import sys
import time

import numpy as np
from _helpers import random_binary, random_gram_stack, random_spins

import skqg


def _rbm_spin(rng):
    train = random_spins(rng, (500, 16), p=0.5)
    est = skqg.RBMCoarseGrainer(64, visible="spin", n_iter=3, random_state=0).fit(train)
    return est, lambda n: random_spins(rng, (n, 16), p=0.5)


def _rbm_bernoulli(rng):
    train = random_binary(rng, (500, 16), p=0.3)
    est = skqg.RBMCoarseGrainer(16, n_iter=3, random_state=0).fit(train)
    return est, lambda n: random_binary(rng, (n, 16), p=0.3)


def _wishart_2d(rng):
    est = skqg.WishartCovarianceModel().fit(rng.standard_normal((500, 10)))
    return est, lambda n: rng.standard_normal((n, 10))


def _wishart_3d(rng):
    def stack(n):
        return random_gram_stack(rng, n, 3)

    return skqg.WishartCovarianceModel().fit(stack(200)), stack


def _transport_normal(rng):
    est = skqg.MongeAmpereTransport(reference="normal", n_reference=300, random_state=0)
    return est.fit(rng.standard_normal((300, 2))), lambda n: rng.standard_normal((n, 2))


CONFIGS = {
    "rbm_spin": _rbm_spin,
    "rbm_bernoulli": _rbm_bernoulli,
    "wishart_2d": _wishart_2d,
    "wishart_3d": _wishart_3d,
    "transport_normal": _transport_normal,
}


def _status_mb(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def probe(config, method, n_rows):
    rng = np.random.RandomState(0)
    est, make = CONFIGS[config](rng)
    getattr(est, method)(make(10))  # load the kernels; score_samples caches log Z
    X = make(n_rows)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak resident set size (VmHWM) to the current one
    before = _status_mb("VmRSS")
    began = time.perf_counter()
    out = getattr(est, method)(X)
    seconds = time.perf_counter() - began
    peak = _status_mb("VmHWM")
    return {
        "config": config,
        "method": method,
        "n_rows": n_rows,
        "input_mb": X.nbytes / 2**20,
        "output_mb": out.nbytes / 2**20,
        "peak_growth_mb": peak - before,
        "seconds": seconds,
    }


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
