"""`python -m dashboard`: the ops dashboard on 127.0.0.1:`LT_DASHBOARD_PORT`, supervised like the
services (the supervisor sets the port)."""

from aiohttp import web

from dashboard.app import build
from deploy.state import settings_from_env
from runtime import kafkaaccess
from runtime.logging import configure

settings = settings_from_env()
configure("dashboard", settings.log_format, settings.log_level)
kafkaaccess.configure(settings, "console")
app, _ = build(settings)
web.run_app(app, host=settings.bind_host, port=settings.dashboard_port, print=None, access_log=None)
