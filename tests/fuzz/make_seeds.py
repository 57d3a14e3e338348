"""Write the seed corpora of tests/fuzz/corpus/ (rerun when a file format
changes): small valid files of each reader, written by fastembed's own
writers or by hand in the format's documented layout, plus a few edge cases."""
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _text_vectors():
    return {
        "small": b"the 0.1 -0.2 3e-1\na 1 2 3\nword -1.5 0 .5\n",
        "tabs_crlf": b"the\t1\t2\t3\r\n\r\nx 4 5 6\r\n",
        "bom_unicode": "\ufeff\u00e9 1 2\nw 3.25e+2 -0\n".encode(),
        "long_number": b"w 0." + b"1" * 900 + b" 1e-50\n",
        "duplicate": b"w 1 2\nw 3 4\nx 5 6",
    }


def _header(rows):
    return f"{len(rows)} {len(rows[0][1])}\n".encode()


def _binary(rows):
    return _header(rows) + b"".join(word.encode() + b" " + struct.pack(f"<{len(v)}f", *v) + b"\n"
                                    for word, v in rows)


ROWS = [("the", [0.1, -0.2, 0.3]), ("a", [1.0, 2.0, 3.0]), ("\u00e9", [4.0, 5.0, 6.0])]


def _word2vec_text():
    body = b"".join(w.encode() + b" " + " ".join(map(str, v)).encode() + b"\n" for w, v in ROWS)
    return {"small": _header(ROWS) + body, "no_final_newline": _header(ROWS) + body[:-1],
            "empty": b"0 3\n"}


def _models():
    import fastembed
    from fastembed import layers
    seq = fastembed.Sequential([layers.Input((4,), dtype="int32"), layers.Embedding(6, 3),
                                layers.Conv1D(2, 2, activation="relu"), layers.LSTM(2),
                                layers.Dense(1, activation="sigmoid")])
    seq.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    seq.fit(np.arange(8).reshape(2, 4) % 6, np.array([0.0, 1.0]), epochs=1, verbose=0)
    inputs = layers.Input((3,), dtype="int32")
    pooled = layers.GlobalAveragePooling1D()(layers.Embedding(5, 2)(inputs))
    functional = fastembed.Model(inputs, layers.Dense(2, activation="softmax")(pooled))
    return {"sequential": seq, "functional": functional}


def _saved(save, suffix):
    path = os.path.join(HERE, "_seed" + suffix)
    save(path)
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    return data


def corpora():
    from fastembed.preprocessing.text import Tokenizer
    from targets import _weights_model
    text = _text_vectors()
    w2v = _word2vec_text()
    binary = {"small": _binary(ROWS), "one_row": _binary(ROWS[:1])}
    models = _models()
    tokenizer = Tokenizer(num_words=10, oov_token="<oov>")
    tokenizer.fit_on_texts(["the a word", "the \u00e9 w x"])
    return {
        "vectors_glove": text,
        "vectors_glove_vocabulary": text,
        "vectors_word2vec": w2v,
        "vectors_word2vec_vocabulary": w2v,
        "vectors_gzip": w2v,
        "vectors_gzip_stream": {k: __import__("gzip").compress(v, mtime=0)[2:]
                                for k, v in text.items()},
        "vectors_word2vec_binary": binary,
        "vectors_word2vec_binary_vocabulary": binary,
        "load_model": {name: _saved(model.save, ".keras") for name, model in models.items()},
        "load_weights": {"matching": _saved(_weights_model().save_weights, ".weights.h5"),
                         "other_model": _saved(models["sequential"].save_weights,
                                               ".weights.h5")},
        "tokenizer_json": {"fitted": tokenizer.to_json().encode(),
                           "empty": Tokenizer().to_json().encode()},
    }


def main():
    for target, seeds in corpora().items():
        directory = os.path.join(HERE, "corpus", target)
        os.makedirs(directory, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(directory, name), "wb") as handle:
                handle.write(data)


if __name__ == "__main__":
    main()
