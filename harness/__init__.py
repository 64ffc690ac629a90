"""Tooling shared by the tests and the benchmarks (processes racing for the RingCentral token).

Not app code: nothing in smsapp/, auth_tokens/ or ringcentral_sim/ imports it, and it is not
deployed. It lives outside tests/ so that bench/ never imports test code.
"""
