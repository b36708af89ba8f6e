"""The Ministry of Justice's shared judicial-record software (phần mềm quản lý lý lịch tư pháp
dùng chung): receives requests over the integration bus, checks the applicant against the
population database, and issues the criminal-record certificate (Phiếu lý lịch tư pháp)."""
