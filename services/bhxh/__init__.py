"""Social security (bảo hiểm xã hội): BHYT cards for children under 6, burial and survivor benefits."""
