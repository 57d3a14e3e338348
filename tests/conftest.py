import os

# The Keras reference tests run Keras 3 on the jax backend.
os.environ.setdefault("KERAS_BACKEND", "jax")
