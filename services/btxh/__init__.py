"""Social-protection desk (bảo trợ xã hội; Labour, now Home Affairs): burial support for
social-protection beneficiaries and people with merit.

Its own agency rather than a corner of `bhxh`: in the reports it is a different ministry's
software, it fails on its own ("burial-support linking is not implemented in places", "the
labour software cannot find it"), and an integrator may swap it for a real system alone. So
it gets its own process, work topic, schema and link in the monitor.
"""
