from runtime.service import main

main("motcua")
