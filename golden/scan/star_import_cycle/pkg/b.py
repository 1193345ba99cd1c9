from .a import *  # ok: a cycle of star imports must not hang the resolver


async def route():
    helper()  # expect: AM150 via=helper
    missing()  # ok: not defined anywhere
