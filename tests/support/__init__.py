"""Test support shared across the project's suites.

`kannel`: a real Kannel stack on loopback; `callbacks`: a server that records provider callbacks.
"""
