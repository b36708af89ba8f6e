from importlib import resources

from services.cutru.handlers import HANDLERS
from services.runtime.service import AgencySpec, main

main(AgencySpec("cutru", HANDLERS, resources.files("services.cutru").joinpath("schema.sql").read_text()))
