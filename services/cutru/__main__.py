from runtime.service import main

main("cutru")
