"""Training: retraining from verdicts and files, the registry of model versions, jobs and their process."""
