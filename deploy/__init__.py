"""Running the stack: the embedded broker and PostgreSQL, and the service supervisor."""
