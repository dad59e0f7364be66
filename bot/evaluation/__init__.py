"""The evaluation harness: datasets in YAML, small evaluator functions, reports and a CI gate."""

from bot.evaluation.dataset import Case, Dataset, ExpectedSide, load_dataset
from bot.evaluation.thresholds import GATE, TARGETS

__all__ = ["GATE", "TARGETS", "Case", "Dataset", "ExpectedSide", "load_dataset"]
