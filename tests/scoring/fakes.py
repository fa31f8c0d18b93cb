"""A scripted judge model: returns queued replies in order and records every request."""

from collections import deque

from scoring.scorers.judge import JudgeReply, JudgeRequest


class ScriptedJudgeModel:
    """Like inspect_ai's mockllm: each call pops the next queued reply."""

    def __init__(self, *replies: str, cost_usd: float = 0.0) -> None:
        self._replies = deque(replies)
        self.cost_usd = cost_usd
        self.requests: list[JudgeRequest] = []

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Record the request and return the next scripted reply."""
        self.requests.append(request)
        text = self._replies.popleft()
        return JudgeReply(text=text, input_tokens=100, output_tokens=50, cost_usd=self.cost_usd)
