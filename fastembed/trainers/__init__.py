"""Training loops (compile / fit / evaluate / predict) and their pieces."""
