"""Fakes for the tests: real servers on 127.0.0.1. Publishing targets that behave like the
services in shared/spec/publishing-contracts.md, failure behaviours included; and model
servers speaking OpenAI's chat-completions and Anthropic's messages protocols, answering
from a scripted model (``scripted``, ``openai_server``, ``anthropic_server``, ``fixtures``)."""
