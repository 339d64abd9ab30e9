"""Stage 2 through any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, ...).

Import from the submodules: this package imports nothing itself, so that reading the
settings (``handlers.llm.config``) does not load the OpenAI client.
"""
