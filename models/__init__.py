"""SQLAlchemy 2.0 models and data access for tasks, documents and schools."""
