"""Text preprocessing and pretrained word vectors."""
from fastembed.preprocessing.sequence import pad_sequences  # noqa: F401
from fastembed.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json  # noqa: F401
from fastembed.preprocessing.vectors import (  # noqa: F401
    VectorFileError,
    WordVectors,
    build_embedding_matrix,
    load_vectors,
)
