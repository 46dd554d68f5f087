"""Offline research beside the product: the MDRP replay of the dispatch policy and its evaluator.

It may import the pure policy in `drivers/dispatch/`; nothing in the request path imports it.
"""
