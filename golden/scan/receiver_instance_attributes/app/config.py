from pathlib import Path

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    data_dir: Path = Path("/srv/data")
    redis_url: str = "redis://localhost:6379/0"


settings = Settings()
