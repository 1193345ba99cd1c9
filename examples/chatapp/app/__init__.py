"""Chat service: conversations with an LLM, transcripts on disk and in S3."""

__version__ = "0.4.2"
