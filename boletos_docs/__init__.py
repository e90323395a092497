"""Documents written from the code, for people who call the services."""
