"""`python -m streams`: the monitor worker, supervised like the agencies."""

from faust.worker import Worker

from runtime import kafkaaccess
from runtime.logging import configure
from runtime.settings import Settings
from streams.app import build

settings = Settings.from_env()
configure("monitor", settings.log_format, settings.log_level)
kafkaaccess.configure(settings, "monitor")
app = build(settings, settings.service_port or 6066)
Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()
