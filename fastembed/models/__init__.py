"""Models: Model (Functional), Sequential, and loading saved ones."""
from fastembed.models.model import Model, load_model, model_from_json  # noqa: F401
from fastembed.models.functional import Functional  # noqa: F401
from fastembed.models.sequential import Sequential  # noqa: F401
