from runtime.service import main

main("bhxh")
