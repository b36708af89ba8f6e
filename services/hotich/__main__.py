from importlib import resources

from services.hotich.handlers import HANDLERS
from services.runtime.service import AgencySpec, main

main(AgencySpec("hotich", HANDLERS, resources.files("services.hotich").joinpath("schema.sql").read_text()))
