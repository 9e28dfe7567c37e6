"""The network's audit log, read by network administrators."""
