"""Dispatch: a pure-Python policy (no Django) and the round that runs it against the real stores.

Its offline replay on the Grubhub MDRP instances lives in `research.mdrp`; nothing here imports it.
"""
