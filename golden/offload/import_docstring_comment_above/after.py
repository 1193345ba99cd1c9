"""Upload helpers."""

# standard library
import asyncio
import os
import shutil

import boto3


async def stage(src: str, dest: str) -> None:
    await asyncio.to_thread(shutil.copy, src, dest)
    print(os.path.basename(dest), boto3.__name__)
