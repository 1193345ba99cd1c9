import anthropic
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI, OpenAI

claude = anthropic.Anthropic()
aclaude = AsyncAnthropic()
gpt = OpenAI()
agpt = AsyncOpenAI()
