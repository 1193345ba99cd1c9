import asyncio
import logging
import os
import shutil

logger = logging.getLogger(__name__)


def _archive_sync(src: str, dest: str) -> int:
    # copy first, measure after
    shutil.copy(src, dest)
    size = os.path.getsize(dest)
    logger.info("archived %s (%d bytes)", dest, size)
    return size


@some_decorator
async def archive(src: str, dest: str) -> int:
    """Copy a file and report its size."""
    return await asyncio.to_thread(_archive_sync, src, dest)
