"""Upload helpers."""

# standard library
import os
import shutil

import boto3


async def stage(src: str, dest: str) -> None:
    shutil.copy(src, dest)
    print(os.path.basename(dest), boto3.__name__)
