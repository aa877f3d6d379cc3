"""The fairness suite: counterfactual decision audits (``ethos audit run --suite fairness``)."""
