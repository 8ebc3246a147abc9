"""Checks the command line makes before it starts work: output paths and memory.

A long run that fails only when it writes its result, or that the out-of-memory killer stops
half-way, wastes the user's time: both are checked first, with messages that say what to do.
"""

import contextlib
import os
import tempfile
from pathlib import Path

# The sampler's working memory per lattice site beyond the configurations themselves (spin
# arrays with halos, cluster stacks and index buffers of 8-byte integers, in bytes).
ISING_BYTES_PER_SITE = 64


def check_output_path(path, what):
    """Refuse an output path that cannot be written, before any work is done.

    Parameters
    ----------
    path : str
        The file name exactly as given (it is written under that name, nothing appended).
    what : str
        What the file is, for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If ``path`` is a directory, its folder does not exist or is not writable, or the file
        exists and is not writable.
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"--out {path!r} is a directory; give a file name for the {what}.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(
            f"--out {path!r}: the folder {str(folder)!r} does not exist; create it first."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--out {path!r}: the folder {str(folder)!r} is not writable.")
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"--out {path!r} exists and is not writable.")
    return target


def available_memory():
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_ising_memory(n_samples, size):
    """Refuse an Ising run whose arrays would not fit in the available memory.

    Raises
    ------
    ValueError
        Giving the estimated and the available memory.
    """
    sites = size * size
    needed = sites * (2 * n_samples + ISING_BYTES_PER_SITE)
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"--size {size} with --n-samples {n_samples} needs about {_gib(needed)} of memory "
            f"({sites} sites per configuration) but {_gib(available)} is available. Use a "
            "smaller --size or fewer --n-samples."
        )


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.3g} GiB"


def was_interrupted(error):
    """Whether ``error`` is, or was raised while handling, a KeyboardInterrupt (Numba surfaces
    Ctrl-C inside a compiled call as a SystemError whose context is the interrupt)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False


def write_atomically(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``
    exactly: an interrupted or failed write leaves no partial file, and no suffix is added."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
