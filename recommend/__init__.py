"""Recommender stage: training sets, models, evaluation, registry and retraining."""
