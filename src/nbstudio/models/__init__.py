"""The model registry: register, list and load models (plain MLflow registered models)."""
