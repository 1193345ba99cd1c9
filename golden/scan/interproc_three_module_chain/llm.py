import random
import time


class CompletionClient:
    def __init__(self, model: str, retries: int = 3) -> None:
        self.model = model
        self.retries = retries

    def complete(self, prompt: str) -> str:
        for attempt in range(self.retries):
            if random.random() > 0.1:
                return f"[{self.model}] {prompt[::-1]}"
            time.sleep(2 ** attempt)  # back off before retrying
        raise RuntimeError("gave up")

    def name(self) -> str:
        return self.model


client = CompletionClient("small-1")
