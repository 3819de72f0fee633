"""verifier: a Z3-based symbolic checker for litmus tests against cat-style memory models.

Pipeline (one direction of imports):
  frontends -> program -> events -> cat -> smt -> analyses -> cli
"""

__version__ = "0.1.0"
