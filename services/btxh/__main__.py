from runtime.service import main

main("btxh")
