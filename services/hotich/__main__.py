from runtime.service import main

main("hotich")
