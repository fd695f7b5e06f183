"""Causal debiasing: kernel balancing weights, kernel-balanced recommenders and
the ranking metrics of debiased recommendation."""

from ._balancing_weights import KernelBalancingWeights
from ._metrics import f1_at_k, ndcg_at_k, precision_at_k, ranking_report, recall_at_k
from ._recommender import KernelBalancedRecommender

__all__ = [
    "KernelBalancedRecommender",
    "KernelBalancingWeights",
    "f1_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_report",
    "recall_at_k",
]
