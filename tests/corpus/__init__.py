"""The bad-input corpus: make_corpus.py builds it, expected.yaml says what each file becomes."""
