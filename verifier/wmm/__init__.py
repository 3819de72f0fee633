"""The relation graph between the cat text and the encoder: a model compiled once into a
program of typed relation definitions and axioms (`compile.py`, `program.py`)."""
