import asyncio
import functools
from functools import partial


async def render(template, context, out):
    html = await asyncio.to_thread(template.render, context, strict=True)
    await asyncio.to_thread(out.write_text, html, encoding="utf-8")
    return html
