"""Phase ``native``: async libraries, with ``async``/``await`` carried through every caller.

``base.py`` is the contract between the driver (``plan.py`` decides which functions become async and
which calls get awaited, ``apply.py`` rewrites one file) and the targets (``targets/*.py``: one per
library, each turning its blocking calls into their async equivalents).
"""
