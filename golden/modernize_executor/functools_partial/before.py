import asyncio
import functools
from functools import partial


async def render(template, context, out):
    loop = asyncio.get_event_loop()
    html = await loop.run_in_executor(None, functools.partial(template.render, context, strict=True))
    await loop.run_in_executor(None, partial(out.write_text, html, encoding="utf-8"))
    return html
