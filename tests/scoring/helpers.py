"""Sample builders shared by the scoring tests."""

from scoring.types import Message, Sample


def sample(prompt: str, answer: str, *, agent: str = "default", **fields: object) -> Sample:
    """A sample with the prompt as one user message."""
    return Sample.model_validate(
        {"agent": agent, "messages": (Message(role="user", content=prompt),), "answer": answer, **fields}
    )
