from importlib import resources

from services.bhxh.handlers import HANDLERS
from services.runtime.service import AgencySpec, main

main(AgencySpec("bhxh", HANDLERS, resources.files("services.bhxh").joinpath("schema.sql").read_text()))
