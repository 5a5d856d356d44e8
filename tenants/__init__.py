"""Customers (tenants) and their domains, users, memberships, signup and provisioning, and the
tenant-access rules every portal request passes through."""
