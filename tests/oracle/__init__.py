"""An independent, brute-force reference for the SMT engine (used by tests/test_oracle.py).

`enumerate.reachable_states` executes threads concretely, enumerates every candidate execution
(rf, co) explicitly and evaluates the cat model with `cat_eval`, on plain Python sets of pairs.
It shares only the program IR, the cat parser and the model/mapping registry with the engine.
"""
