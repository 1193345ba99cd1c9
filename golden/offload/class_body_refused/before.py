import os


async def make_settings() -> type:
    class Settings:
        debug = os.path.exists("/etc/app/debug")

    return Settings
