"""The national population database (Cơ sở dữ liệu quốc gia về dân cư): the agencies ask it
whether it knows a person, and civil status hands it each newborn it registers."""
