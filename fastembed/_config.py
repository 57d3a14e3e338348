"""fastembed.show_config(): what this installation runs on."""
import os
import platform

import numpy as np
import scipy


def config():
    """Version, kernel ISA, OpenMP threads and the BLAS behind the GEMMs."""
    from fastembed import __version__, _kernels
    blas = scipy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {
        "fastembed": __version__,
        "isa": _kernels.isa_name(),
        "isa_override": os.environ.get("FASTEMBED_ISA") or None,
        "openmp_threads": _kernels.get_num_threads(),
        "blas": f"{blas.get('name', 'unknown')} {blas.get('version', '')} (scipy {scipy.__version__})".strip(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def show_config():
    """Print config(), one line per entry."""
    for name, value in config().items():
        print(f"{name + ':':<16}{value}")
