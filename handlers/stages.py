"""The PDF task's type and stages: importable without what runs them (pypdf, the
extractors), for the commands that only submit or show tasks."""

from __future__ import annotations

TASK_TYPE = "pdf_extraction"

# The stages in the order they run, each with the task's progress (%) when it ends.
STAGES = {"text": 25, "extract": 50, "normalize": 75, "save": 100}
# Each extracted chunk's checkpoint is a step named with this prefix.
CHUNK_PREFIX = "extract/chunk/"
