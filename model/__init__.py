"""The comment classifier: corpora, normalization, features, training, evaluation, artifacts."""
