from runtime.service import main

main("portal")
