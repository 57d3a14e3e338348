"""The small Embedding -> Flatten -> Dense classifier built in Keras and in
fastembed with the same weights, for the Keras-equivalence tests."""
import keras

import fastembed

VOCAB, DIM, LENGTH, SAMPLES = 200, 8, 6, 150  # 150 = 4 full batches of 32 + one of 22


def twin_classifiers(units, activation):
    """(keras model, fastembed model), Keras's initial weights in both."""
    keras.utils.set_random_seed(0)

    def build(lib):
        return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                               lib.layers.Embedding(VOCAB, DIM), lib.layers.Flatten(),
                               lib.layers.Dense(units, activation=activation)])
    km, fm = build(keras), build(fastembed)
    fm.set_weights(km.get_weights())
    return km, fm
