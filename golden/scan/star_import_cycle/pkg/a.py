from .b import *  # ok: b star-imports this module back
import time


def helper():
    time.sleep(1)  # ok: sync helper
