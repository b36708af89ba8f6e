"""The `lienthong` command: stack, runs, verification, contract export."""
