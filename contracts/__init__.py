"""The shared language of the linked-service simulator and monitor.

Pure: no I/O library is imported anywhere in this package, so every other package
(services, streams, dashboard, load tests) can depend on it and it depends on none of them.
"""
