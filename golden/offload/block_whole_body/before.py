import logging
import os
import shutil

logger = logging.getLogger(__name__)


@some_decorator
async def archive(src: str, dest: str) -> int:
    """Copy a file and report its size."""
    # copy first, measure after
    shutil.copy(src, dest)
    size = os.path.getsize(dest)
    logger.info("archived %s (%d bytes)", dest, size)
    return size
