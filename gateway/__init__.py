"""Genesis Gateway: a Mistral-compatible gateway that A/B-tests fine-tuned agents against their baselines."""

__version__ = "0.1.0"
