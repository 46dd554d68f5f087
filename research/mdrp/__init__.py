"""The Grubhub meal-delivery routing problem (MDRP): instances replayed through the dispatch policy or
a greedy baseline (`solve`), and an independent checker of the solution files (`evaluator`)."""
