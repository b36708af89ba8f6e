"""Civil-status registry (hộ tịch): registers births (issuing the personal ID number) and deaths."""
