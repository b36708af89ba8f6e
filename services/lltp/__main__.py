from runtime.service import main

main("lltp")
