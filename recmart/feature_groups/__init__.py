"""The feature groups of the SageMaker Feature Store and their offline-store tables in the lake."""
