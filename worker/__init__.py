"""The mail worker: Gmail, jobs, transaction boundaries and the command line.

Depends on ``crm_core``; ``crm_core`` never imports from here.
"""
