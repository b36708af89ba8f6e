"""Locust load tests (run by `lienthong loadtest`): user classes in users.py, shapes in shapes.py,
the entry point locustfile.py. Locust runs on gevent: nothing here imports asyncio code."""
