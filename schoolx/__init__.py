"""The schoolx application: the CLI, the web API and review page, and the wiring of the
engine (``pipeline``) to the PDF stages (``handlers``) and the database (``models``)."""
