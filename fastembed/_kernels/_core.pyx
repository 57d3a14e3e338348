"""The one compiled module: a thin, validating, nogil boundary over csrc/.

Each kernel family lives in its own .pxi, included here so that all of them
share one copy of the C state (the ISA dispatch table).
"""
include "runtime.pxi"
include "blas.pxi"
include "indices.pxi"
include "embedding.pxi"
include "optim.pxi"
include "vectors.pxi"
include "lstm.pxi"
include "gru.pxi"
include "simple_rnn.pxi"
include "conv1d.pxi"
include "pooling1d.pxi"
include "losses.pxi"
include "lookup.pxi"
include "text_vectorize.pxi"
include "softmax.pxi"
include "dense.pxi"
