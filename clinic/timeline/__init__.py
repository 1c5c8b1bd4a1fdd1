"""One patient's timeline: the evidence, the suggestion and the decision on one screen."""
