"""fastembed.distribution: Keras's distribution API over MPI (the `mpi`
extra). Launch with `mpiexec -n N python train.py`; see the README's
"More than one machine"."""
from fastembed.distribution.distribution_lib import (  # noqa: F401
    DataParallel, DeviceMesh, Distribution, LayoutMap, ModelParallel, TensorLayout, distribution,
    get_device_count, initialize, list_devices, set_distribution)
