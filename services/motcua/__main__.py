from importlib import resources

from services.motcua.handlers import HANDLERS
from services.runtime.service import AgencySpec, main

main(AgencySpec("motcua", HANDLERS, resources.files("services.motcua").joinpath("schema.sql").read_text()))
