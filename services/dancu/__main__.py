from runtime.service import main
from services.registry import agency_spec

main(agency_spec("dancu"))
