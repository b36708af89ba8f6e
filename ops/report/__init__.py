"""`lienthong report`: the periodic statistics from the monitor's event log (ops/report/statistics.py
says what every figure means), written as json, csv, html or xlsx."""
